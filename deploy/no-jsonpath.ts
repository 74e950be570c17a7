/**
 * What the deployed bundles take for jsonpath-plus (deploy/esbuild-plugins.cjs).
 *
 * json-rules-engine evaluates a condition's `path` (a JSONPath into a fact's
 * value) with jsonpath-plus, which it `require`s whether or not a rule has
 * one: 25 KB of every pipeline function. Riposte's rules never have one: the
 * compiler writes conditions on named facts only, and a compiled library
 * holding a `path` is refused at the cold start (src/playbooks/compiled-library.ts).
 * So this is never called; if it ever were, it says why instead of
 * evaluating a path differently from the CLI.
 */
export function JSONPath(): never {
  throw new Error('a rule condition has a JSONPath `path`, which Riposte never compiles: the deployed functions leave jsonpath-plus out (deploy/no-jsonpath.ts)');
}
