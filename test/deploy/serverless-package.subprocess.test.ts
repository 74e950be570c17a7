import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadConfig, PACKAGED_PLAYBOOK_LIBRARY } from '../../src/config.js';
import { compiledLibraryText } from '../../src/playbooks/index.js';
import { evidenceBucketTemplate } from '../../src/evidence/index.js';
import { compiledDefaultLibrary } from '../support/compiled-library.js';
import { DEAD_LETTER_QUEUES, EVIDENCE_WRITERS, FUNCTIONS } from '../../deploy/stack.js';
import { cfnLintFiles, type LintReport } from './cfn-lint.js';
import { root } from './serverless-config.js';

/** Bundling six functions with esbuild on a loaded 2-core machine: ~20 s idle, many times that under load. */
const PACKAGE_TIMEOUT_MS = 600_000;

type Json = Record<string, unknown>;
interface Template {
  readonly Resources: Record<string, { Type: string; Properties: Json; DependsOn?: unknown }>;
}

interface Run {
  readonly status: number | null;
  readonly output: string;
}

/**
 * `serverless package` as on a fresh clone: no AWS credentials (every AWS_*
 * variable removed), a throwaway HOME, telemetry off.
 */
function serverlessPackage(directory: string, args: readonly string[] = []): Promise<Run> {
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'package', '--package', directory, ...args],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...environment, HOME: mkdtempSync(join(tmpdir(), 'riposte-sls-home-')), SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        timeout: PACKAGE_TIMEOUT_MS,
      },
      (error, stdout, stderr) => resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, output: `${stdout}${stderr}` }),
    );
  });
}

describe('serverless package with automatic enforce and no external ID', () => {
  it(
    'fails before building anything, naming the parameter',
    async () => {
      const run = await serverlessPackage(mkdtempSync(join(tmpdir(), 'riposte-sls-refused-')), ['--param=automatic=enforce']);

      expect(run.status).not.toBe(0);
      expect(run.output).toContain('Invalid stage parameter externalId: is required when automatic is enforce');
    },
    PACKAGE_TIMEOUT_MS,
  );
});

/** The names in a zip file (Python's zipfile: python3 is on every machine that runs the emulator). */
function zipNames(zip: string): string[] {
  const script = 'import json, sys, zipfile\nprint(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))';
  return JSON.parse(execFileSync('python3', ['-c', script, zip], { encoding: 'utf8', timeout: 60_000 })) as string[];
}

/** One entry of a zip file as text, or undefined when the zip has no such entry. */
function zipEntry(zip: string, name: string): string | undefined {
  if (!zipNames(zip).includes(name)) return undefined;
  const script = 'import sys, zipfile\nsys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode("utf-8"))';
  return execFileSync('python3', ['-c', script, zip, name], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
}

describe('serverless package, offline', () => {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-sls-package-'));
  const stack = join(directory, 'cloudformation-template-update-stack.json');
  const stackSetTemplates = ['member-role.template.json', 'forwarders.template.json'].map((name) => join(directory, name));
  let template: Template;
  let lint: LintReport;

  beforeAll(async () => {
    const run = await serverlessPackage(directory);
    expect(run.output).toContain('Service packaged');
    expect(run.status).toBe(0);
    template = JSON.parse(readFileSync(stack, 'utf8')) as Template;
    // The three templates in one cfn-lint process (its start is most of its time).
    // W3005 aside, in the stack's only: Serverless adds a DependsOn on each role the function already references.
    lint = await cfnLintFiles([stack, ...stackSetTemplates], { ignore: { [stack]: ['W3005'] } });
  }, PACKAGE_TIMEOUT_MS);

  const ofType = (type: string): Array<[string, { Type: string; Properties: Json }]> => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

  it('bundles each function on its own, on nodejs22.x, with its generated role; the pipeline functions carry the compiled playbook library', async () => {
    const library = compiledLibraryText(await compiledDefaultLibrary());
    for (const [name, fn] of Object.entries(FUNCTIONS)) {
      const properties = template.Resources[fn.logicalId]?.Properties;
      expect(properties, name).toMatchObject({ Runtime: 'nodejs22.x', Handler: expect.stringMatching(/\.handler$/), Role: { 'Fn::GetAtt': [fn.role, 'Arn'] } });
      const zip = join(directory, `${name}.zip`);
      expect(existsSync(zip), name).toBe(true);
      const packaged = zipEntry(zip, PACKAGED_PLAYBOOK_LIBRARY);
      // The library compiled from playbooks/, exactly; and no YAML beside it: the functions never parse playbooks.
      expect(packaged, name).toBe(fn.pipeline ? library : undefined);
      expect(
        zipNames(zip).filter((entry) => /\.ya?ml$/.test(entry)),
        name,
      ).toEqual([]);
    }
  });

  it('feeds the findings function from the findings queue with partial batch responses, bounded concurrency and a dead-letter queue', () => {
    const mapping = ofType('AWS::Lambda::EventSourceMapping').find(([, resource]) => JSON.stringify(resource.Properties.EventSourceArn).includes('FindingsQueue'))?.[1];
    expect(mapping?.Properties).toMatchObject({ FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10, ScalingConfig: { MaximumConcurrency: 5 } });
    expect(template.Resources.FindingsLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(5);
    expect(template.Resources.FindingsQueue?.Properties.RedrivePolicy).toMatchObject({ deadLetterTargetArn: { 'Fn::GetAtt': ['FindingsDeadLetterQueue', 'Arn'] } });
  });

  it('serves POST /respond, GET /runs/{id} and POST /runs/{id}/rollback with IAM authorization, behind a resource policy', () => {
    const methods = ofType('AWS::ApiGateway::Method').map(([, method]) => method.Properties);
    expect(methods).toHaveLength(3);
    for (const method of methods) expect(method.AuthorizationType).toBe('AWS_IAM');
    expect(methods.map((method) => method.HttpMethod).sort()).toEqual(['GET', 'POST', 'POST']);
    const policy = template.Resources.ApiGatewayRestApi?.Properties.Policy as { Statement: Json[] };
    expect(policy.Statement.map((statement) => statement.Effect)).toEqual(['Allow', 'Deny']);
  });

  it('gives each function the environment that loadConfig reads into a complete deployment (ledger, resume and record-retry queues, topic, bus, evidence bucket)', () => {
    // What CloudFormation resolves each reference to, in the shape config.ts checks.
    const resolved: Record<string, string> = {
      RunLedgerTable: 'riposte-dev-ledger',
      ResumeQueue: 'https://sqs.us-east-1.amazonaws.com/123456789012/riposte-dev-resume',
      RecordRetryQueue: 'https://sqs.us-east-1.amazonaws.com/123456789012/riposte-dev-record-retry',
      NotificationTopic: 'arn:aws:sns:us-east-1:123456789012:riposte-dev-runs',
      EvidenceBucket: 'riposte-dev-evidencebucket-1a2b3c4d5e6f',
      EvidenceSigningKey: '1234abcd-12ab-34cd-56ef-1234567890ab',
    };
    for (const name of ['findings', 'customAction', 'api', 'resume', 'recordRetry'] as const) {
      const variables = (template.Resources[FUNCTIONS[name].logicalId]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const environment = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : (resolved[(value as { Ref: string }).Ref] ?? `unresolved ${JSON.stringify(value)}`)]),
      );
      const config = loadConfig({ ...environment, AWS_REGION: 'us-east-1', LAMBDA_TASK_ROOT: '/var/task' });
      expect(config.resources, name).toEqual({
        memberRoleName: 'RiposteMemberRole',
        ledgerTable: resolved.RunLedgerTable,
        resumeQueueUrl: resolved.ResumeQueue,
        recordRetry: { queueUrl: resolved.RecordRetryQueue, delaySeconds: 60, maxAttempts: 6 },
        topicArn: resolved.NotificationTopic,
        eventBus: 'default',
        evidenceBucket: resolved.EvidenceBucket,
        evidenceSigningKey: { keyId: resolved.EvidenceSigningKey, algorithm: 'ECDSA_SHA_256' },
      });
      expect(config.automatic, name).toBe('plan');
      expect(environment, name).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'riposte', POWERTOOLS_METRICS_NAMESPACE: 'Riposte' });
    }
  });

  it('does not retry the custom resource’s function when an invocation dies (a retried Create would leak its own actions)', () => {
    const configs = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig');
    const actionTargets = configs.find((config) => JSON.stringify(config.Properties.FunctionName).includes(FUNCTIONS.actionTargets.logicalId));
    expect(actionTargets?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
  });

  it('alarms on every function’s errors, every dead-letter queue’s depth and a tripped limit', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    for (const fn of Object.values(FUNCTIONS))
      expect(
        alarms.some((alarm) => alarm.MetricName === 'Errors' && JSON.stringify(alarm.Dimensions).includes(fn.logicalId)),
        fn.logicalId,
      ).toBe(true);
    for (const queue of DEAD_LETTER_QUEUES)
      expect(
        alarms.some((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(alarm.Dimensions).includes(queue)),
        queue,
      ).toBe(true);
    expect(alarms.find((alarm) => alarm.MetricName === 'LimitTrips')).toMatchObject({ Namespace: 'Riposte', Dimensions: [{ Name: 'service', Value: 'riposte' }] });
  });

  it('cfn-lint passes the stack template (W3005 aside: Serverless adds a DependsOn on each role the function already references)', () => {
    expect(lint.get(stack)).toEqual([]);
  });

  it('writes the regional evidence bucket template beside it, whose WriterRoleArns the stack outputs: the roles of the functions that run playbooks, the roles the signing key lets sign', () => {
    const written = JSON.parse(readFileSync(join(directory, 'evidence-bucket.template.json'), 'utf8')) as Json;
    // Its default retention is the stage's evidenceRetentionDays (365 by default), as the home Region's bucket's.
    expect(written).toEqual(evidenceBucketTemplate({ retentionDays: 365 }));
    const roles = EVIDENCE_WRITERS.map((name) => ({ 'Fn::GetAtt': [FUNCTIONS[name].role, 'Arn'] }));
    expect(EVIDENCE_WRITERS).toEqual(['findings', 'customAction', 'api', 'resume']);
    expect((template as unknown as { Outputs: Json }).Outputs.EvidenceWriterRoleArns).toEqual({ Value: { 'Fn::Join': [',', roles] } });
    const keyPolicy = template.Resources.EvidenceSigningKey?.Properties.KeyPolicy as { Statement: Array<{ Action: unknown; Principal?: { AWS?: unknown } }> };
    expect(keyPolicy.Statement.find((statement) => JSON.stringify(statement.Action).includes('kms:Sign'))?.Principal?.AWS).toEqual(roles);
  });

  it('writes the member-role and forwarder templates beside it, and cfn-lint passes them', () => {
    for (const file of stackSetTemplates) {
      expect(existsSync(file), file).toBe(true);
      expect(lint.get(file), file).toEqual([]);
    }
  });
});
