import { defineConfig } from 'vitest/config';

// Every package resolves its workspace siblings to their TypeScript sources through this condition,
// so tests never depend on a stale dist/.
export const shared = defineConfig({
  resolve: { conditions: ['@hostnic/source'] },
  ssr: { resolve: { conditions: ['@hostnic/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
