// Builds the web console into web/dist: `npm run build:web`, and at install time (postinstall).
// Type-checks first (Vite only strips types), as the usual `tsc && vite build` does.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let vite;
try {
  vite = await import('vite');
} catch (err) {
  // `npm ci --omit=dev` leaves out Vite and React: the API works, /console explains what is missing.
  if (err?.code === 'ERR_MODULE_NOT_FOUND') {
    console.warn('facerec: vite is not installed (devDependencies omitted), so the web console is not built; /console will say so.');
    process.exit(0);
  }
  throw err;
}

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(webDir, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('facerec: the web console does not type-check (tsc -p web)');
  process.exit(1);
}

await vite.build({ root: webDir, configFile: join(webDir, 'vite.config.ts'), logLevel: 'warn' });
console.log(`facerec: web console built into ${join(webDir, 'dist')}`);
