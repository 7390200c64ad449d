import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';

/**
 * The labelled evaluation photos live outside the project (they may not be redistributed).
 * FACEREC_EVAL_DIR overrides the default `../shared/eval` next to the checkout.
 */
export function evalDir(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = process.env.FACEREC_EVAL_DIR ?? resolve(root, '..', 'shared', 'eval');
  if (!existsSync(join(dir, 'MANIFEST.md'))) {
    console.error(`Evaluation data not found at ${dir}.`);
    console.error('Benchmarks read labelled photos from ../shared/eval (or FACEREC_EVAL_DIR); they are not part of the project.');
    process.exit(2);
  }
  return dir;
}

/** Prints the command that produced the figures, so a reader can reproduce them. */
export function printHeader(title: string): void {
  const cmd = `npm run ${process.env.npm_lifecycle_event ?? '(bench)'}`;
  console.log(`\n${title}\n$ ${cmd}   (node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`);
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function progress(total: number, label: string): { tick: () => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    let n = 0;
    const step = Math.max(1, Math.floor(total / 10));
    return {
      tick: () => {
        n++;
        if (n % step === 0 || n === total) process.stderr.write(`${label}: ${n}/${total}\n`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted} | {rate}/s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  let n = 0;
  bar.start(total, 0, { rate: '0' });
  return {
    tick: () => {
      n++;
      bar.update(n, { rate: (n / ((Date.now() - t0) / 1000)).toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}

/** The q-quantile of xs (nearest rank, no interpolation); NaN for no samples. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
}

export const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)} %`;
