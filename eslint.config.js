// Lint: type-aware rules that catch floating promises, plus import-cycle and
// layering checks so the dependency direction of DESIGN.md holds.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

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
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
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
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
);
