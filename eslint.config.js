// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.killswitch/**', 'coverage/**', 'schemas/**', '.venv-tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Business rules never talk to AWS directly: stores and publishers do (STYLE.md §1).
    files: ['shared/killswitch/**/*.ts', 'shared/schemas/**/*.ts', 'shared/collector/evaluate.ts', 'shared/notices/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*'], message: 'Use a store or publisher from shared/stores or shared/aws.' }] }],
    },
  },
);
