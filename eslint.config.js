// Lint rules: the recommended sets of ESLint and typescript-eslint, with the few house exceptions below.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'client-sdk-ts/dist/',
      '**/build/',
      'coverage/',
      'plugin-sdk-as/',
      'plugins/',
      'bench/results/',
      'bench/native/plugins/sha256-as/',
      'bench/native/kernels/sha256-kernel.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused arguments are part of interfaces (handlers implement every method).
      // A closure may read a `let` that is assigned once, after the closure is made (a callback wired before its target exists).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // The dashboard runs in the browser (#11).
  { files: ['host/admin/dashboard/**/*.js'], languageOptions: { globals: { ...globals.browser, uPlot: 'readonly' } } },
);
