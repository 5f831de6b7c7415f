// ESLint flat config: `npm run lint`. TypeScript (src, test, *.config.ts) is linted with type information from
// tsconfig.eslint.json (recommendedTypeChecked plus a few rules of strictTypeChecked); the plain-JS scripts
// (scripts/, bench/, fixtures/) get the JS rules only.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'coverage/', 'node_modules/', '.fixtures/', 'python-bridge/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // from strictTypeChecked: the ones that find real leftovers here. Its no-non-null-assertion is not used:
      // with noUncheckedIndexedAccess every typed-array read in the kernels is `T | undefined`, and the `!`
      // there states an index checked by the loop bounds.
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-unnecessary-type-conversion': 'error',
      '@typescript-eslint/no-unnecessary-boolean-literal-compare': 'error',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['src/samples/json-layout.ts', 'src/samples/text.ts'],
    rules: {
      // A JSON scanner (strings may not hold U+0000-U+001F) and the label quoting (labels with control
      // characters are shown quoted) match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests parse the CLI's JSON output and the bundle's files (JSON.parse gives `any`) and check their shape
      // with expect(): that is the assertion, so declaring a type for them first would only assume what the
      // test is there to check.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: globals.node,
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
