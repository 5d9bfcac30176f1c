import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The preload runs sandboxed, where only `require('electron')` works: it is bundled (contract and
 * IPC helpers included) into one CommonJS file next to the compiled main process.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/electron', import.meta.url)),
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: false,
    lib: {
      entry: fileURLToPath(new URL('preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
