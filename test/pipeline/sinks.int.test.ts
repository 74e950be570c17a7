import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { createLambdaRuntime, findingsHandler, MemoryMetricsSink } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { ANALYST, lambdaContext, lambdaLab, proxyEvent, type LambdaLab } from '../handlers/lambda-lab.js';
import { emulatorClientFactory } from '../support/emulator.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { compromisedInstance, EVIDENCE_BUCKET, eventFor } from '../support/pipeline-lab.js';
import { UNSAFE_LINE, UNSAFE_TEXT } from '../support/unsafe-text.js';

/*
 * Issue 14, "the API under attack": control characters and markup in the
 * fields of a finding (or a request) that reach logs, notes, SNS messages
 * and S3 keys are neutralised, and each sink is read back: the Security Hub
 * note from the emulator's Security Hub, the SNS messages moto recorded, the
 * evidence bucket's keys, the ledger's record and the API's view of it, and
 * every log line as it was written.
 *
 * One delivery through the findings function (automatic: enforce) holds
 * three messages: a GuardDuty finding (through Security Hub) whose title,
 * description, product fields and tag carry the hostile text, and which
 * the isolation playbook acts on; a Security Hub control finding whose Id,
 * title and resource Id carry it, refused as disputed (its reason quotes
 * the resource Id); and an event whose detail-type carries it, dropped.
 */

const MEMBER = '222222222222';
/** ESC sequences (clear screen, window title), BEL, a forged line after LF and CR, LS, RLO (Trojan Source), C1 CSI, and markup. */
const HOSTILE = 'Backdoor\u001b[2J\u001b]0;owned\u0007\nFORGED: all clear\r\u2028\u202egnp.exe\u009b31m <script>alert(1)</script><b>ok</b>';
/** How `neutralise` shows the hostile characters: each one visible, none acting. */
const SHOWN = 'Backdoor\\u001b[2J\\u001b]0;owned\\u0007\\nFORGED: all clear\\r\\u2028\\u202egnp.exe\\u009b31m <script>alert(1)</script><b>ok</b>';

type Json = Record<string, unknown>;
const asffFinding = (event: Json): Json => (event.detail as { findings: Json[] }).findings[0] as Json;

let lab: LambdaLab;
/** Every line the findings function's logger wrote, as written (the MemoryLogSink gives them back parsed). */
const lines: string[] = [];
const logs = new MemoryLogSink();
let isolation: Json;
let disputed: Json;

beforeAll(async () => {
  lab = await lambdaLab();
  const instance = await compromisedInstance(lab.lab.clients, MEMBER);
  const ec2 = lab.lab.clients.create(EC2Client, { account: MEMBER, region: 'us-east-1', partition: 'aws', correlationId: 'setup' });
  const group = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: instance.vpcId, GroupName: 'bastion', Description: 'bastion' }))).GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

  isolation = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER, {
    'i-0a1b2c3d4e5f60718': instance.instanceId,
    'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
  });
  const gd = asffFinding(isolation);
  gd.Title = `${HOSTILE} title`;
  gd.Description = `${HOSTILE} description`;
  (gd.ProductFields as Json)['aws/guardduty/service/action/dnsRequestAction/domain'] = HOSTILE;
  ((gd.Resources as Json[])[0]?.Tags as Json).Name = HOSTILE;

  disputed = eventFor('securityhub-imported-open-ssh.json', MEMBER, { 'sg-0f1e2d3c4b5a69788': group });
  const control = asffFinding(disputed);
  control.Id = `${control.Id as string}/${HOSTILE}`;
  control.Title = `${HOSTILE} ssh`;
  ((control.Resources as Json[])[0] as Json).Id = `${HOSTILE} group`;

  const unreadable = {
    version: '0',
    id: 'f0e1d2c3-0000-4000-8000-000000000001',
    'detail-type': HOSTILE,
    source: 'aws.securityhub',
    account: MEMBER,
    time: '2026-03-14T09:21:07Z',
    region: 'us-east-1',
    resources: [],
    detail: {},
  };

  // The function as deployed, writing its log lines where the test can read them as written.
  const runtime = await createLambdaRuntime({
    environment: lab.environment,
    factory: lab.lab.observe(new AwsClientFactory(loadConfig(lab.environment).aws, emulatorClientOptions())),
    logger: new RiposteLogger({
      logLevel: 'debug',
      stream: {
        write: (chunk: string) => {
          lines.push(chunk);
          logs.write(chunk);
        },
      },
    }),
    metrics: new MemoryMetricsSink(),
  });
  const batch = await lab.findingsBatch([JSON.stringify(isolation), JSON.stringify(disputed), JSON.stringify(unreadable)]);
  expect(await findingsHandler(() => Promise.resolve(runtime))(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
});
afterAll(async () => {
  await lab?.close();
});

/** The runs the delivery started, from the ledger. */
async function runs(): Promise<RunRecord[]> {
  const ids = logs.entries.filter((entry) => entry.message === 'run started').map((entry) => entry.attributes.runId as string);
  return (await Promise.all(ids.map((id) => lab.runtime.ledger.getRun(id)))).filter((record): record is RunRecord => record !== undefined);
}

describe('hostile text in a finding, read back from every sink', () => {
  it('the runs: the isolation succeeded, the disputed group was refused (the delivery is what the sinks below describe)', async () => {
    const recorded = await runs();
    expect(recorded.map((run) => [run.playbookId, run.status]).sort()).toEqual([
      ['ec2-compromise-isolate', 'succeeded'],
      ['revoke-unrestricted-admin-ingress', 'skipped'],
    ]);
  });

  it('Security Hub notes (read from the emulator): one line each, the hostile text shown as visible escapes', async () => {
    const notes = [(await readEventFinding(isolation))?.Note, (await readEventFinding(disputed))?.Note];

    expect(notes.map((note) => note?.UpdatedBy)).toEqual(['riposte', 'riposte']);
    for (const note of notes) expect(note?.Text).not.toMatch(UNSAFE_LINE);
    // The refused run's note quotes the resource Id it refused, escaped, after its one header.
    expect(notes[1]?.Text).toContain(`its Id ${SHOWN} group names no security group`);
    expect(notes[1]?.Text?.match(/\[riposte run /g)).toHaveLength(1);
  });

  it('SNS messages (as moto recorded them): no control or bidi character, no forged line, the title escaped on its own line', async () => {
    const messages = await lab.lab.sentNotifications();

    expect(messages.length).toBeGreaterThan(0);
    for (const { subject, message } of messages) {
      expect(subject).not.toMatch(UNSAFE_LINE);
      expect(message).not.toMatch(UNSAFE_TEXT);
      expect(message.split('\n').filter((line) => line.startsWith('FORGED'))).toEqual([]);
    }
    expect(messages.some(({ message }) => message.split('\n')[0] === `HIGH: ${SHOWN} title`)).toBe(true);
    // The JSON after the readable part parses back to the finding's title as it came.
    const isolated = messages.find(({ message }) => message.startsWith('HIGH: '))?.message ?? '';
    expect((JSON.parse(isolated.slice(isolated.indexOf('\n\n{') + 2)) as { finding: { title: string } }).finding.title).toBe(`${HOSTILE} title`);
  });

  it('S3 keys (listed from the evidence bucket): built from the account, the live instance id and the run id only', async () => {
    const s3 = emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });
    const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET }));
    const keys = (Contents ?? []).map((object) => object.Key as string);

    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^evidence\/222222222222\/i-[0-9a-f]{17}\/r-\d{8}T\d{6}Z-[0-9a-f]{12}\/[a-z-]+\.json(\.sha256)?$/);
  });

  it('the ledger keeps the finding’s text as it came (for audit); GET /runs/{id} answers it as JSON with every hostile character escaped', async () => {
    const run = (await runs()).find((record) => record.playbookId === 'ec2-compromise-isolate') as RunRecord;
    expect((run.finding as { title: string }).title).toBe(`${HOSTILE} title`);

    const response = await lab.api(proxyEvent({ method: 'GET', path: `/runs/${run.runId}` }), lambdaContext(30_000, 'riposte-test-api'));

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toMatch(UNSAFE_LINE);
    expect((JSON.parse(response.body) as { run: { finding: { title: string } } }).run.finding.title).toBe(`${HOSTILE} title`);
  });

  it('an on-demand request’s reason and User-Agent: the API answers escape them, the ledger keeps them as sent', async () => {
    const reason = `ticket ${HOSTILE}`;
    const userAgent = `curl/8.5.0 ${HOSTILE.replaceAll('\n', ' ')}`;
    const accepted = await lab.api(
      proxyEvent({
        method: 'POST',
        path: '/respond',
        body: JSON.stringify({ instanceId: 'i-0fedcba9876543210', account: MEMBER, region: 'us-east-1', reason, dryRun: true }),
        identity: { ...ANALYST, userAgent },
      }),
      lambdaContext(30_000, 'riposte-test-api'),
    );
    const runId = (JSON.parse(accepted.body) as { runId: string }).runId;
    const shown = await lab.api(proxyEvent({ method: 'GET', path: `/runs/${runId}` }), lambdaContext(30_000, 'riposte-test-api'));

    expect(accepted.body).not.toMatch(UNSAFE_LINE);
    expect(shown.body).not.toMatch(UNSAFE_LINE);
    const trigger = (JSON.parse(shown.body) as { run: { finding: { trigger: { reason: string; requestedBy: { userAgent: string } } } } }).run.finding.trigger;
    expect(trigger).toMatchObject({ reason, requestedBy: { userAgent } });
  });

  it('log lines, as written: the finding fields that reach them (finding id, a refusal’s reason, an unreadable event’s detail-type) are there', () => {
    const hostileLines = lines.filter((line) => line.includes('FORGED'));
    expect(hostileLines.length).toBeGreaterThanOrEqual(3);
    expect(logs.entries.some((entry) => entry.message.startsWith('message dropped'))).toBe(true);
    // JSON.stringify escapes C0 controls: no line is forged, no ESC sequence is written raw.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    for (const line of lines) expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f]/);
  });

  it('log lines, as written: every finding field that reaches one (finding id, a refusal’s reason, an unreadable event’s detail-type) is escaped', () => {
    const hostileLines = lines.filter((line) => line.includes('FORGED'));
    // Not vacuous: the finding id, the refusal and the dropped event are logged.
    expect(hostileLines.length).toBeGreaterThanOrEqual(3);
    expect(logs.entries.some((entry) => entry.message.startsWith('message dropped'))).toBe(true);
    for (const line of lines) expect(line.slice(0, -1)).not.toMatch(UNSAFE_LINE);
  });
});
