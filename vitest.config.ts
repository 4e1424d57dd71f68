import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Compiles the renderer's rune modules (*.svelte.ts) its unit tests import, such as the annotator's editor state.
  plugins: [svelte()],
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup/release-sessions.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so timing-sensitive tests stay honest.
    maxWorkers: 2,
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
