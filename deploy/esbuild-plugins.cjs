// esbuild plugins for the functions' bundles (serverless.yml custom.esbuild.plugins;
// bench/handlers.bench.ts and test/deploy build with them too). serverless-esbuild
// `require`s this file from the service directory, so it stays CommonJS and
// names its files from its own path.
//
// sdkSchemaLiteralKeys: the AWS SDK's generated schemas (`schemas_0.js` of each
// client, since 3.930) write trait objects with computed keys,
// `{ [_e]: _c }` where `const _e = "error"`. esbuild must assume a computed
// key may run code, so it keeps every schema of the client: all of EC2's
// 560 KB for a handler that sends ten of its commands. Rewriting those keys
// to the string literals they name (`{ "error": _c }`) changes no value and
// lets the unused schemas be dropped (EC2: 560 KB to 64 KB). This is the
// change proposed upstream (aws/aws-sdk-js-v3#7607, smithy-lang/smithy-typescript#1889);
// once a release has it, the plugin finds no computed keys and changes nothing.
const SCHEMAS = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/** The schema module's text with each computed key that names a string constant written as that string. */
function withLiteralKeys(text) {
  const strings = new Map();
  for (const [, name, literal] of text.matchAll(STRING_CONSTANT)) strings.set(name, literal);
  return text.replace(COMPUTED_KEY, (key, name) => (strings.has(name) ? `${strings.get(name)}:` : key));
}

const sdkSchemaLiteralKeys = {
  name: 'sdk-schema-literal-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMAS }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      return { contents: withLiteralKeys(await readFile(path, 'utf8')), loader: 'js' };
    });
  },
};

// lambdaCredentialChain: every SDK client's runtimeConfig imports
// @aws-sdk/credential-provider-node for its default credentials. That chain
// reaches the SSO, profile, process, web-identity and login providers and the
// STS/SSO-OIDC/signin clients through dynamic imports, which a CommonJS bundle
// inlines whole (about 107 KB of the findings function) although none of them
// can answer in Lambda. The package is resolved instead to a chain of the two
// sources Lambda uses: the execution role's credentials in the environment,
// and the container credentials endpoint (deploy/lambda-credential-provider.ts
// says why each). Only the Lambda bundles take this plugin: the CLI, the demo
// and the in-process tests keep the SDK's full chain (profiles, SSO…). So a
// build that is not a Lambda function's (the CLI's, scripts/build-cli.mjs)
// takes `sdkSchemaLiteralKeys` by name, not this array.
const CREDENTIAL_PROVIDER_NODE = /^@aws-sdk\/credential-provider-node$/;

const lambdaCredentialChain = {
  name: 'lambda-credential-chain',
  setup(build) {
    build.onResolve({ filter: CREDENTIAL_PROVIDER_NODE }, async () => {
      const { dirname, join } = await import('node:path');
      return { path: join(dirname(module.filename), 'lambda-credential-provider.ts') };
    });
  },
};

module.exports = [sdkSchemaLiteralKeys, lambdaCredentialChain];
module.exports.sdkSchemaLiteralKeys = sdkSchemaLiteralKeys;
module.exports.lambdaCredentialChain = lambdaCredentialChain;
module.exports.withLiteralKeys = withLiteralKeys;
