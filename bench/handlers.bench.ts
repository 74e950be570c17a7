import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { build, type BuildOptions } from 'esbuild';

import { deployedBundleOptions } from '../deploy/bundle-options.js';

import { compiledLibraryText, loadPlaybooks, PlaybookCompileError } from '../src/playbooks/index.js';

import { processMilliseconds, result, type Benchmark, type BenchmarkResult } from './harness.js';

/*
 * Each Lambda handler as serverless.yml deploys it: bundled with the esbuild
 * options of serverless.yml's `custom.esbuild` (read from the file, so the
 * figures follow the deployment), then
 * - `handler-bundle-<name>`: the bundle's size, against a handler that only
 *   imports one SDK client (STS) built the same way;
 * - `handler-cold-start-<name>`: a fresh Node process that loads the bundle
 *   and serves one event, median of several runs, against bare `node -e 0`.
 *
 * The event each handler serves needs no AWS call (a record that is not an
 * event, a malformed run id, a custom-resource Delete of nothing), so the
 * figure is Riposte's own start: loading the bundle, the configuration and
 * the playbooks, and building the pipeline. Targets (issue 12): under 1 MB,
 * under 300 ms.
 */

const root = join(import.meta.dirname, '..');
const RUNS = 5;

/** What each handler is asked to serve: no AWS call on the way. */
const sqsRecord = {
  messageId: 'bench-1',
  receiptHandle: 'r',
  body: 'not json',
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench',
  awsRegion: 'us-east-1',
};
const EVENTS: Readonly<Record<string, unknown>> = {
  findings: { Records: [sqsRecord] },
  resume: { Records: [sqsRecord] },
  'record-retry': { Records: [sqsRecord] },
  'custom-action': {
    version: '0',
    id: 'bench',
    source: 'aws.securityhub',
    'detail-type': 'Security Hub Findings - Imported',
    account: '123456789012',
    region: 'us-east-1',
    time: '2026-12-04T00:00:00Z',
    resources: [],
    detail: {},
  },
  api: {
    resource: '/runs/{id}',
    path: '/runs/not-a-run-id',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    pathParameters: { id: 'not a run id' },
    body: null,
    isBase64Encoded: false,
    requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:role/bench', sourceIp: '127.0.0.1', userAgent: 'bench', accountId: '123456789012', caller: 'bench' }, requestId: 'bench' },
  },
};

/** The environment a deployed function gets, pointing at nothing: the events above never reach AWS. */
const ENVIRONMENT = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  RIPOSTE_LEDGER_TABLE: 'bench-ledger',
  RIPOSTE_RESUME_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-resume',
  RIPOSTE_RECORD_RETRY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-record-retry',
  POWERTOOLS_METRICS_NAMESPACE: 'Riposte',
  POWERTOOLS_SERVICE_NAME: 'riposte',
};

/** Loads the bundle, serves `event` once, and exits. */
const serveOnce = (bundle: string, event: unknown): string[] => [
  '-e',
  `const { handler } = require(${JSON.stringify(bundle)});
   Promise.resolve(handler(${JSON.stringify(event)}, { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 60000 }))
     .then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });`,
];

export const handlersBenchmark: Benchmark = {
  name: 'handlers',
  baseline: 'an STS-only handler bundle / bare node -e 0',
  async run(): Promise<BenchmarkResult[]> {
    const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-handlers-'));
    try {
      const options = deployedBundleOptions(root);
      // The library as `serverless package` ships it: compiled, beside the code.
      const { playbooks, problems } = await loadPlaybooks(join(root, 'playbooks'));
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      const library = join(directory, 'playbooks.json');
      writeFileSync(library, compiledLibraryText(playbooks));
      const environment = { ...ENVIRONMENT, RIPOSTE_PLAYBOOK_LIBRARY: library };
      const bundled = async (entry: BuildOptions, name: string): Promise<string> => {
        const outfile = join(directory, `${name}.js`);
        await build({ ...options, ...entry, outfile, logLevel: 'error' });
        return outfile;
      };
      const stsOnly = "import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';\nexport const handler = async () => new STSClient({}).send(new GetCallerIdentityCommand({}));\n";
      const baselineBytes = statSync(await bundled({ stdin: { contents: stsOnly, resolveDir: root, loader: 'ts', sourcefile: 'sts-only.ts' } }, 'sts-only')).size;
      const bareNode = processMilliseconds(['-e', '0'], environment, RUNS);

      const figures: BenchmarkResult[] = [];
      const handlers = readdirSync(join(root, 'handlers'))
        .filter((file) => file.endsWith('.ts'))
        .map((file) => basename(file, '.ts'))
        .sort();
      for (const name of handlers) {
        const bundle = await bundled({ entryPoints: [join(root, 'handlers', `${name}.ts`)] }, name);
        figures.push(result(`handler-bundle-${name}`, statSync(bundle).size / 1024, 'KB', baselineBytes / 1024));
        const event = EVENTS[name];
        // The custom resource answers CloudFormation over HTTPS whatever it is asked: its start is measured as loading the bundle alone.
        const args = event === undefined ? ['-e', `require(${JSON.stringify(bundle)})`] : serveOnce(bundle, event);
        figures.push(result(`handler-cold-start-${name}${event === undefined ? '-load-only' : ''}`, processMilliseconds(args, environment, RUNS), 'ms', bareNode));
      }
      return figures;
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
