import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

type PoolOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/**
 * A piscina pool of threads running the module `name` beside `nextTo` (the caller's
 * import.meta.url), with the caller's file extension: `.js` once compiled, `.ts` when run from
 * sources (npm start, tests), where the threads need the tsx loader too.
 */
export function threadPool<Task, Result>(nextTo: string, name: string, options: Omit<PoolOptions, 'filename'>): Piscina<Task, Result> {
  const extension = extname(fileURLToPath(nextTo));
  const needsLoader = extension === '.ts' && !process.execArgv.some((a) => a.includes('tsx'));
  return new Piscina<Task, Result>({
    ...(needsLoader ? { execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] } : {}),
    ...options,
    filename: new URL(`./${name}${extension}`, nextTo).href,
  });
}
