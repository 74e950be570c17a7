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

// jsonpathLeftOut: json-rules-engine `require`s jsonpath-plus (25 KB) for
// conditions with a `path`, which Riposte never compiles and the compiled
// library refuses; the functions take deploy/no-jsonpath.ts for it, which
// says so if it is ever called.
const JSONPATH_PLUS = /^jsonpath-plus$/;

const jsonpathLeftOut = {
  name: 'jsonpath-left-out',
  setup(build) {
    build.onResolve({ filter: JSONPATH_PLUS }, async () => {
      const { dirname, join } = await import('node:path');
      return { path: join(dirname(module.filename), 'no-jsonpath.ts') };
    });
  },
};

// rulesEngineEventsOnNode: json-rules-engine's Engine and Rule extend
// eventemitter2 (19 KB: wildcards, namespaces, onAny, TTLs…) built without
// options, and call two of its methods, `on` and `emitAsync`; Riposte adds no
// listener. For json-rules-engine's imports of it the functions take
// deploy/json-rules-engine-events.ts: Node's EventEmitter (built in, no
// bytes) with eventemitter2's `emitAsync` as it runs for such an emitter.
const EVENTEMITTER2 = /^eventemitter2$/;
const RULES_ENGINE = /[\\/]json-rules-engine[\\/]dist[\\/][^\\/]+\.js$/;

const rulesEngineEventsOnNode = {
  name: 'rules-engine-events-on-node',
  setup(build) {
    build.onResolve({ filter: EVENTEMITTER2 }, async ({ importer }) => {
      if (!RULES_ENGINE.test(importer)) return undefined;
      const { dirname, join } = await import('node:path');
      return { path: join(dirname(module.filename), 'json-rules-engine-events.ts') };
    });
  },
};

// securityHubFindingsAsDocuments: the functions read findings back with
// Security Hub's GetFindings (finding.update verifies its note and status).
// Its answer's schema is the whole ASFF tree: 613 structures, 109 KB of every
// pipeline function. In that tree every value is a plain JSON value (string,
// number, boolean, list, map: no timestamp, blob, big number or renamed
// member; test/deploy/security-hub-documents.test.ts walks the SDK's schema
// to prove it for the installed version), so a finding read as a JSON
// document is the same object the typed schema gives; the functions' build
// reads each finding of the list as one. The build fails if the SDK no
// longer writes the list as this expects.
const SECURITY_HUB_SCHEMAS = /[\\/]@aws-sdk[\\/]client-securityhub[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/;
const FINDING_LIST_TYPED = 'var AwsSecurityFindingList = [1, n0, _ASFL,\n    0, () => AwsSecurityFinding$\n];';
/** The same list schema, its member a document (SCHEMA.DOCUMENT, 15) instead of the AwsSecurityFinding structure. */
const FINDING_LIST_DOCUMENTS = 'var AwsSecurityFindingList = [1, n0, _ASFL,\n    0, 15\n];';

/** Security Hub's schema module with each finding of AwsSecurityFindingList read as a JSON document. */
function withFindingsAsDocuments(text) {
  if (!text.includes(FINDING_LIST_TYPED)) {
    throw new Error(
      'securityHubFindingsAsDocuments: @aws-sdk/client-securityhub no longer declares AwsSecurityFindingList as this plugin expects; check deploy/esbuild-plugins.cjs against the installed SDK',
    );
  }
  return text.replace(FINDING_LIST_TYPED, FINDING_LIST_DOCUMENTS);
}

const securityHubFindingsAsDocuments = {
  name: 'security-hub-findings-as-documents',
  setup(build) {
    build.onLoad({ filter: SECURITY_HUB_SCHEMAS }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      return { contents: withFindingsAsDocuments(withLiteralKeys(await readFile(path, 'utf8'))), loader: 'js' };
    });
  },
};

// sdkClientVersionOnly: each SDK client's runtime configuration imports its
// package.json whole (about 1.8 KB each, 20 KB for a pipeline function) to
// read one field, `version`, for the user agent; the functions' build gives
// it a package.json of that field alone. (test/deploy/function-bundles.test.ts
// checks that no client reads another field.)
const SDK_CLIENT_PACKAGE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

const sdkClientVersionOnly = {
  name: 'sdk-client-version-only',
  setup(build) {
    build.onLoad({ filter: SDK_CLIENT_PACKAGE }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      const { version } = JSON.parse(await readFile(path, 'utf8'));
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

// eventStreamsLeftOut: the SDK's HTTP protocols load the event-stream codec
// (`import("@smithy/core/event-streams")`, 15 KB inlined whole) only for an
// operation whose input or output is an event stream; no function sends
// one. That import takes deploy/no-event-streams.ts, which says so if it is
// ever reached; the S3 client's own static imports of the package keep the
// two functions they name.
const EVENT_STREAMS = /^@smithy\/core\/event-streams$/;
const HTTP_PROTOCOL = /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]protocols[\\/]HttpProtocol\.js$/;

const eventStreamsLeftOut = {
  name: 'event-streams-left-out',
  setup(build) {
    build.onResolve({ filter: EVENT_STREAMS }, async ({ importer, kind }) => {
      if (kind !== 'dynamic-import' || !HTTP_PROTOCOL.test(importer)) return undefined;
      const { dirname, join } = await import('node:path');
      return { path: join(dirname(module.filename), 'no-event-streams.ts') };
    });
  },
};

// sdkErrorClassesCompact: each client's `models/errors.js` writes every
// modelled error of its service as a twelve-line class, and its schema module
// registers them all (the protocol builds a service's error from the class
// registered under its code), so every one stays whichever commands a
// function sends: 121 KB of a pipeline function, SSM's 140 classes 39 KB of
// it. The functions' build has each class made by one call instead,
// `Name = make("Name", "client", "Message")`, to deploy/sdk-error-classes.ts,
// which builds the same class (same base, name, fault, shapeId, fields in the
// same order: test/deploy/sdk-error-classes.test.ts builds every class of
// the installed clients both ways and compares classes and instances). A
// class written any other way (one with `$retryable`, or a shapeId outside
// the file's namespace) is kept as written; a file that is not a list of such
// classes after its base's import is kept whole.
const SDK_ERRORS = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]models[\\/]errors\.js$/;
const ERRORS_HEADER = /^import \{ (\w+) as __BaseException \} from "\.\/\1";\n/;
const ERROR_CLASS = new RegExp(
  [
    '^export class (\\w+) extends __BaseException \\{\\n',
    '(?:    static shapeId = "([^"\\\\]*)";\\n)?',
    '    name = "\\1";\\n',
    '    \\$fault = "(client|server)";\\n',
    '((?:    \\w+;\\n)*)',
    '    constructor\\(opts\\) \\{\\n',
    '        super\\(\\{\\n',
    '            name: "\\1",\\n',
    '            \\$fault: "\\3",\\n',
    '            \\.\\.\\.opts,\\n',
    '        \\}\\);\\n',
    '        Object\\.setPrototypeOf\\(this, \\1\\.prototype\\);\\n',
    '((?:        this\\.\\w+ = opts\\.\\w+;\\n)*)',
    '    \\}\\n',
    '\\}\\n?$',
  ].join(''),
);
const DECLARED_MEMBER = /^ {4}(\w+);$/gm;
const ASSIGNED_MEMBER = /^ {8}this\.(\w+) = opts\.(\w+);$/gm;

/** One class of an errors module as its parts, or undefined when it is not written as the template. */
function errorClassParts(block) {
  const match = ERROR_CLASS.exec(block);
  if (match === null) return undefined;
  const [, name, shapeId, fault, declared, assigned] = match;
  const members = [...declared.matchAll(DECLARED_MEMBER)].map(([, member]) => member);
  const assignments = [...assigned.matchAll(ASSIGNED_MEMBER)];
  // Every member declared is read from the options under its own name, in the order declared.
  if (assignments.length !== members.length || assignments.some(([, to, from], index) => to !== from || to !== members[index])) return undefined;
  return { name, shapeId, fault, members };
}

const SHAPE_NAMESPACE = /^(.*#)\w+$/;

/** An errors module with each class written as the template made by one call to deploy/sdk-error-classes.ts. */
function withCompactErrorClasses(text, helperPath) {
  const header = ERRORS_HEADER.exec(text);
  if (header === null) return text;
  const blocks = text.slice(header[0].length).split(/\n(?=export class )/);
  if (!blocks.every((block) => block.startsWith('export class '))) return text;
  const parts = blocks.map(errorClassParts);
  // The namespace of the file's shapeIds: the first class's (the clients that write none give none).
  const first = parts.find((part) => part?.shapeId !== undefined);
  const namespace = first === undefined ? undefined : SHAPE_NAMESPACE.exec(first.shapeId)?.[1];
  const compact = (part) => part !== undefined && (namespace === undefined ? part.shapeId === undefined : part.shapeId === `${namespace}${part.name}`);
  if (!parts.some(compact)) return text;
  const make = [
    `import { sdkErrorClasses as __sdkErrorClasses } from ${JSON.stringify(helperPath)};`,
    `const __errorClass = /* @__PURE__ */ __sdkErrorClasses(__BaseException${namespace === undefined ? '' : `, ${JSON.stringify(namespace)}`});`,
  ];
  const classes = blocks.map((block, index) => {
    const part = parts[index];
    if (!compact(part)) return block.endsWith('\n') ? block.slice(0, -1) : block;
    const args = [part.name, part.fault, ...part.members].map((arg) => JSON.stringify(arg)).join(', ');
    return `export const ${part.name} = /* @__PURE__ */ __errorClass(${args});`;
  });
  return `${header[0]}${make.join('\n')}\n${classes.join('\n')}\n`;
}

const sdkErrorClassesCompact = {
  name: 'sdk-error-classes-compact',
  setup(build) {
    build.onLoad({ filter: SDK_ERRORS }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      const { dirname, join } = await import('node:path');
      return { contents: withCompactErrorClasses(await readFile(path, 'utf8'), join(dirname(module.filename), 'sdk-error-classes.ts')), loader: 'js' };
    });
  },
};

// Before sdkSchemaLiteralKeys: esbuild takes the first plugin that loads a file, and this one also makes its keys literal.
module.exports = [
  securityHubFindingsAsDocuments,
  sdkSchemaLiteralKeys,
  lambdaCredentialChain,
  jsonpathLeftOut,
  sdkClientVersionOnly,
  eventStreamsLeftOut,
  sdkErrorClassesCompact,
  rulesEngineEventsOnNode,
];
module.exports.sdkSchemaLiteralKeys = sdkSchemaLiteralKeys;
module.exports.lambdaCredentialChain = lambdaCredentialChain;
module.exports.jsonpathLeftOut = jsonpathLeftOut;
module.exports.securityHubFindingsAsDocuments = securityHubFindingsAsDocuments;
module.exports.sdkClientVersionOnly = sdkClientVersionOnly;
module.exports.eventStreamsLeftOut = eventStreamsLeftOut;
module.exports.sdkErrorClassesCompact = sdkErrorClassesCompact;
module.exports.rulesEngineEventsOnNode = rulesEngineEventsOnNode;
module.exports.withCompactErrorClasses = withCompactErrorClasses;
module.exports.withFindingsAsDocuments = withFindingsAsDocuments;
module.exports.withLiteralKeys = withLiteralKeys;
