// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.killswitch/**', 'coverage/**', 'schemas/**', '**/dist/**', '.venv*/**'] },
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
    // Use cases and the domain never talk to AWS, nor to an adapter: they declare what they need in
    // their capability's ports.ts, and shared/adapters implement it (docs/architecture.md, Layout).
    files: [
      'shared/domain/**/*.ts',
      'shared/schemas/**/*.ts',
      'shared/killswitch/**/*.ts',
      'shared/grants/**/*.ts',
      'shared/notices/**/*.ts',
      'shared/findings/**/*.ts',
      'shared/record/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@aws-lambda-powertools/*'],
              message: 'A use case declares a port (ports.ts); an adapter in shared/adapters implements it.',
            },
            {
              group: ['**/adapters/**', '#shared/adapters/*', '**/runtime/**', '#shared/runtime/*'],
              message: 'A use case depends on ports, not on adapters or the composition root.',
            },
            {
              group: ['**/local/**', '#local/*', '**/infra/**', '#infra/*'],
              message: 'Product code never depends on the local runtime or the CDK app.',
            },
          ],
        },
      ],
    },
  },
  {
    // Adapters and the runtime are product code too: never the local runtime or the CDK app.
    files: ['shared/adapters/**/*.ts', 'shared/runtime/**/*.ts', 'functions/**/*.ts', 'packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['#local/*', '#infra/*'],
              message: 'Product code never imports the local runtime or the CDK app statically (the CLI loads it on demand).',
            },
          ],
        },
      ],
    },
  },
  {
    // The collector SDK is installed on its own: nothing outside its package.
    files: ['packages/collector/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['#*', '../../*'],
              message: 'The collector package is self-contained: import only its own files and its declared dependencies.',
            },
          ],
        },
      ],
    },
  },
);
