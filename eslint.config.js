// ESLint flat config: typescript-eslint's type-checked recommended rules for the code, the tests and the scripts.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.cache/**',
      'test/fixtures/**',
      'test/snapshots/**',
      'templates/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A value gets its real type (a typed helper, a type guard, the library's exported type), never one
      // forced through `never` or `unknown`.
      'no-restricted-syntax': [
        'error',
        ...['TSAsExpression', 'TSTypeAssertion'].flatMap((node) => [
          {
            selector: `${node}[typeAnnotation.type='TSNeverKeyword']`,
            message: "`as never` (or `<never>`) hides the value's type: give it its real type.",
          },
          {
            selector: `${node}[expression.type=/^(TSAsExpression|TSTypeAssertion)$/][expression.typeAnnotation.type='TSUnknownKeyword']`,
            message: "`as unknown as` hides the value's type: give it its real type.",
          },
        ]),
      ],
    },
  },
  // Plain JavaScript (this file, the bin) has no type information to check against.
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
