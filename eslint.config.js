// ESLint flat config. The type-checked rules need the TypeScript program, so
// TypeScript files are linted through the project service (tsconfig.json);
// the few plain JavaScript files (this one, bin/, the dependency-cruiser
// config) are outside that program and get the syntax-only rules.
// Formatting is Prettier's job: none of the configs below holds a layout rule.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['coverage/', '.riposte/', '.serverless/', '.esbuild/', 'dist/']),

  js.configs.recommended,
  // Recommended, not strict: measured on this tree, strict adds ~280 reports,
  // three in four of them numbers in template literals and `() => void`
  // shorthands, which are deliberate here.
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-restricted-syntax': [
        'error',
        // A barrel is the explicit list of what a module offers; `export *` lets it drift.
        { selector: 'ExportAllDeclaration', message: 'List the names: re-export explicitly, never with `export *`.' },
        { selector: 'ClassDeclaration[superClass.name=/Error$/][id.name!=/Error$/]', message: 'An error class ends in `Error`.' },
      ],
      // Under verbatimModuleSyntax an import is kept exactly as written: a
      // type imported without `type` would load its module at run time.
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/consistent-type-exports': ['error', { fixMixedExportsWithInlineTypeSpecifier: true }],
      // In the preset already; named here because a step whose promise is
      // dropped is recorded as done while it still runs.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A promise returned inside `try` without `await` escapes its `catch`.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Run states, guard decisions and findings are unions: a new member
      // must be handled wherever the union is switched on.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Actions implement async plan/verify/run; some need no await, and
      // dropping `async` there would only trade it for Promise.resolve.
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // zod comes through one door, src/zod.ts: zod/mini with its English messages, named so the bundles keep only what is used.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^zod(/|$)', message: "Import zod through src/zod.ts (`import * as z from '…/zod.js'`): zod/mini, its English messages, and a bundle without the rest." }] },
      ],
    },
  },
  {
    files: ['src/zod.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // Vitest types its asymmetric matchers (expect.any, expect.stringContaining, …) as `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // These two build malformed and variant events by reaching into any path
    // of a parsed fixture (`event.detail.findings[0].Compliance.Status = …`):
    // the input is untyped JSON on purpose, and typing each path would hide
    // what each test breaks.
    files: ['test/intake/malformed-input.test.ts', 'test/playbooks/library.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly' },
    },
  },
);
