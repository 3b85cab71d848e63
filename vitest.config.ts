import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests share one Redis and one Docker engine; files run one at a time so
    // their containers and GPU allocations never race each other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // `npm run test:unit` runs the `unit` project only: pure code, no Redis, no Docker, no processes.
    // Anything that needs a service or spawns the bot/worker lives under test/e2e/.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
