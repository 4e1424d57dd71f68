import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so timing-sensitive tests stay honest.
    maxWorkers: 2,
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
