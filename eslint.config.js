import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { packageGraphConfig } from './eslint/package-graph.js';

export default tseslint.config(
  // An earlier release's plugin bundle is a built artefact kept for the skew test.
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'packages/e2e/test/skew/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The agent's event loop serves every pod at once: what runs for a pod (its path, the daemon, the NICs and
    // the libraries they call) makes no synchronous I/O. lmdb writes inside a transaction's callback use put.
    files: [
      'packages/agent/src/{api,daemon,host,nics,pods}/**/*.ts',
      'packages/netlink/src/**/*.ts',
      'packages/ipam/src/claim/**/*.ts',
      'packages/ipam/src/stores/lmdb/claim-ledger.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['callee.name', 'callee.property.name'].map((callee) => ({
          selector: `CallExpression[${callee}=/Sync$/]`,
          message: 'No synchronous I/O on the agent\'s pod path: it stalls every other pod. Use the promise API (fs/promises, spawn, lmdb transaction()).',
        })),
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  ...packageGraphConfig(),
);
