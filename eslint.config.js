// Lint: typescript-eslint (type-aware-free recommended set) + React hooks rules.
// Import direction (style.md): lib/ never imports from app/, components/, server/ or workers/.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.next/', 'out/', '.data/', 'next-env.d.ts', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['app/**/*.tsx', 'components/**/*.tsx', 'lib/queries/**/*.ts', 'lib/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/app/*', '@/components/*', '@/server/*', '@/workers/*', '**/app/*', '**/components/*', '**/server/*', '**/workers/*'],
              message: 'lib/ must not import from app/, components/, server/ or workers/ (the app wires platform services in through lib/platform.ts)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/crypto/**/*.ts', 'lib/data/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'path', 'idb-keyval', '@/lib/storage/mictlanx-client', '@/app/*', '@/components/*', '@/server/*'], message: 'lib/crypto and lib/data are pure: no I/O, no Node modules' }] },
      ],
    },
  },
);
