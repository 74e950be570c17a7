// The module graph of Riposte, checked by `depcruise src handlers deploy test bench`.
// Layers point down only: a module may import from the layers listed before
// it, and from another module only through that module's index.ts.

/** Bottom to top. Modules sharing a layer do not import each other. */
const LAYERS = [
  { name: 'base', path: '^src/(errors|suggest|aws-names|neutralise|files|zod)\\.ts$' },
  { name: 'log-config', path: '^src/(log/|config\\.ts$)' },
  { name: 'intake', path: '^src/intake/' },
  { name: 'aws', path: '^src/aws/' },
  { name: 'evidence', path: '^src/evidence/' },
  { name: 'actions', path: '^src/actions/' },
  { name: 'playbooks', path: '^src/playbooks/' },
  { name: 'engine', path: '^src/engine/' },
  { name: 'ledger', path: '^src/ledger/' },
  { name: 'pipeline', path: '^src/pipeline/' },
  // src/lambda/ is what the handlers adapt (batch processing, the API's routes, the cold start): the handlers' own layer.
  // src/deploy/ is the logic of the deploy-time custom resource (Security Hub custom actions), adapted by handlers/action-targets.ts.
  { name: 'cli-handlers', path: '^(src/cli/|src/lambda/|src/deploy/|handlers/)' },
];

const SIBLINGS = { 'log-config': ['^src/log/', '^src/config\\.ts$'], 'cli-handlers': ['^src/cli/', '^handlers/'] };

const layerRules = LAYERS.flatMap((layer, rank) => {
  const above = LAYERS.slice(rank + 1).map((upper) => upper.path);
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `layer-${layer.name}`,
      comment: `${layer.name} imports only from the layers below it`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: above },
    });
  }
  const [first, second] = SIBLINGS[layer.name] ?? [];
  if (first !== undefined) {
    rules.push(
      { name: `layer-${layer.name}-siblings`, comment: 'modules of one layer do not import each other', severity: 'error', from: { path: first }, to: { path: second } },
      { name: `layer-${layer.name}-siblings`, comment: 'modules of one layer do not import each other', severity: 'error', from: { path: second }, to: { path: first } },
    );
  }
  return rules;
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'emulator-layer',
      comment: 'The emulator launcher and its workarounds build on the AWS layer and what lies under it',
      severity: 'error',
      from: { path: '^src/emulator/' },
      to: { path: LAYERS.slice(LAYERS.findIndex((layer) => layer.name === 'aws') + 1).map((upper) => upper.path) },
    },
    {
      name: 'emulator-not-in-production',
      comment: 'Only the CLI demo, the tests and the benchmarks start or talk to the emulator',
      severity: 'error',
      from: { path: '^(src|handlers)/', pathNot: '^src/(cli|emulator)/' },
      to: { path: '^src/emulator/' },
    },
    {
      name: 'through-the-barrel',
      comment: 'Another module is reached through its index.ts; files at src/ root have none and are imported directly',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'handlers-through-the-barrel',
      comment: 'A Lambda handler is an adapter: it uses the public surface of each module',
      severity: 'error',
      from: { path: '^handlers/' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'deploy-through-the-barrel',
      comment: 'The stack generator (deploy/, run by serverless at package time) uses the public surface of each module',
      severity: 'error',
      from: { path: '^deploy/' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'deploy-not-in-src',
      comment: 'Nothing deployed imports the stack generator',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { path: '^deploy/' },
    },
    {
      name: 'no-test-code-in-production',
      comment: 'Test helpers and benchmarks are not deployed',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-dev-dependency-in-production',
      comment: 'npm ci --omit=dev must still give a working deployment',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'every-file-in-a-layer',
      comment: 'A new module of src/ takes its place in LAYERS (or is the emulator) before it is used',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.map((layer) => layer.path), '^src/emulator/'] },
      to: {},
    },
    // Type-only imports count here too; `viaOnly: { dependencyTypesNot: ['type-only'] }` would limit this to cycles that exist at run time.
    { name: 'no-circular', comment: 'Break the cycle: move the shared piece down to where both can import it', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-orphans', comment: 'A file of src/ nothing imports is dead or a missing export', severity: 'error', from: { path: '^src/', orphan: true }, to: {} },
    { name: 'not-to-unresolvable', comment: 'The import names a file or package that does not exist', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type from an upper layer couples as much as a value.
    tsPreCompilationDeps: true,
    // Package subpaths such as @aws-lambda-powertools/logger/types exist only in "exports".
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'] },
    skipAnalysisNotInRules: true,
  },
};
