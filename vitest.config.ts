import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database suites create their own schema per file; running files in parallel is safe but
    // two cores are easily saturated, so cap the worker count.
    maxWorkers: 2,
  },
})
