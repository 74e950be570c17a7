// esbuild plugins for the functions' bundles (serverless.yml custom.esbuild.plugins;
// bench/handlers.bench.ts builds with them too).
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

module.exports = [sdkSchemaLiteralKeys];
module.exports.withLiteralKeys = withLiteralKeys;
