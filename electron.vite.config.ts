import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

// Layout is fixed by the product card: main + preload under src-main/, the Svelte renderer under src-renderer/.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // Worker-thread entries are entries of their own (util/worker-entry.ts finds them beside index.js), and
        // every chunk stays in out/main so `new URL('./<entry>.js', import.meta.url)` resolves from any of them.
        input: {
          index: resolve('src-main/index.ts'),
          'job-worker': resolve('src-main/jobs/job-worker.ts'),
          'loader-worker': resolve('src-main/train/loader-worker.ts'),
        },
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads must be CommonJS.
      rollupOptions: {
        input: { index: resolve('src-main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: resolve('src-renderer/index.html') },
    },
  },
});
