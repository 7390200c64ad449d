import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console is served by the API server under /console/ (src/http/console.ts). The caller sets
 * `root` to this folder: `vite build web`, `vite web` (dev server), or web/build.mjs.
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small app: a single JS and CSS file, no source maps shipped to users.
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `vite web` during development: the API runs on its usual port.
    proxy: { '/v2.0': 'http://127.0.0.1:8080', '/x/v1': 'http://127.0.0.1:8080', '/console/settings.json': 'http://127.0.0.1:8080' },
  },
});
