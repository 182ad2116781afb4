// Lint: type-aware rules that catch floating promises, plus import-cycle and
// layering checks so the dependency direction of DESIGN.md holds.
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const layer = (target, from, message) => ({ target, from, message });

export default tseslint.config(
  { ignores: ['node_modules/**', '.noetl/**', 'bench/results/**', 'bin/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      // Without these, import-x cannot follow `.ts` imports and no-cycle silently checks nothing.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            layer('./common', ['./contracts', './lineage', './platform', './services', './cli'], 'common is the pure kernel: it imports no other part'),
            layer('./contracts', ['./lineage', './platform', './services', './cli'], 'contracts is a pure core'),
            layer('./lineage', ['./platform', './services', './cli'], 'lineage is a pure core'),
            layer('./platform', ['./services', './cli'], 'shared adapters never import a service'),
            layer('./services/registry', ['./services/orchestrator', './services/worker', './cli'], 'a service never imports another service'),
            layer('./services/orchestrator', ['./services/registry', './services/worker', './cli'], 'a service never imports another service'),
            layer('./services/worker', ['./services/registry', './services/orchestrator', './cli'], 'a service never imports another service'),
          ],
        },
      ],
    },
  },
  {
    // Pure cores: plain functions over data, no I/O library.
    files: ['common/**/*.ts', 'contracts/**/*.ts', 'lineage/**/*.ts', 'services/orchestrator/dsl/**/*.ts', 'services/orchestrator/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(node:)?(fs|fs/promises|net|http|https|child_process|dgram|worker_threads)$', message: 'pure cores do no I/O' },
            { regex: '^(pg|kysely|fastify|@duckdb/.*|@electric-sql/.*|@nats-io/.*)$', message: 'pure cores import no I/O library' },
          ],
        },
      ],
    },
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': 'off',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
    },
  },
);
