// ESLint (flat config): typescript-eslint's recommended rules, floating promises (type-aware), duplicate
// imports. `npm run lint` runs it with Prettier's check; CI runs `npm run lint`.
import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "gpu-bundle/**", "work/**", "figures/**", "notebooks/*.ipynb", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { import: importPlugin },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() returns a promise the runner awaits itself.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }] },
      ],
      "import/no-duplicates": "error",
      // Unused names are errors, except deliberately ignored ones (a leading underscore).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // The kit's casts at the tfjs boundary (kernel args, backend internals) are deliberate and commented.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
