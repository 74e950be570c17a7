import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

import { AwsClientFactory } from '../../aws/index.js';
import { loadConfig } from '../../config.js';
import { emulatorClientOptions } from '../../emulator/index.js';
import { readEvent } from '../../intake/index.js';
import {
  apiHandler,
  createLambdaRuntime,
  customActionHandler,
  findingsHandler,
  MemoryMetricsSink,
  resumeHandler,
  sqsRecordOf,
  type LambdaContext,
  type LambdaRuntime,
  type SqsEvent,
  type SqsRecord,
} from '../../lambda/index.js';
import type { RunRecord } from '../../ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../../log/index.js';
import { findingRecordStatus } from '../../pipeline/index.js';
import { compiledLibraryText } from '../../playbooks/index.js';
import { terminalLines } from '../format.js';
import { describeTimeline } from '../timeline.js';
import { loopbackGateway } from './api-gateway.js';
import { examplePath, type DemoScene } from './cis-story.js';
import {
  autoScalingState,
  collections,
  evidenceObjects,
  findingState,
  groupEgress,
  groupRules,
  instanceProfile,
  manifestCheck,
  interfaceGroups,
  passwordPolicy,
  sentNotifications,
  sharedWith,
  snapshots,
  targetRegistration,
  terminationProtection,
} from './readback.js';
import { ACCOUNT_A, ACCOUNT_B, REGION, type DemoInstance, type World } from './world.js';

/** A Lambda context as the Node.js runtime passes it: 15 minutes left (the functions' timeout), so every step runs within the invocation. */
function lambdaContext(functionName: string, remainingMs = 900_000): LambdaContext {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId: randomUUID(), functionName, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

/** An example event, with the ids the example names replaced by those of what the demo made. */
async function example(scene: DemoScene, name: string, replacements: Readonly<Record<string, string>>): Promise<string> {
  let text = await readFile(examplePath(scene, name), 'utf8');
  for (const [from, to] of Object.entries(replacements)) text = text.replaceAll(from, to);
  return text;
}

/** Security Hub holds the findings its events carry: imported first, as the finding's product would, so Riposte's note and workflow land on them. */
async function importInto(scene: DemoScene, body: string): Promise<AwsSecurityFinding> {
  const finding = (JSON.parse(body) as { detail: { findings: AwsSecurityFinding[] } }).detail.findings[0] as AwsSecurityFinding;
  await scene.factory.create(SecurityHubClient).send(new BatchImportFindingsCommand({ Findings: [finding] }));
  return finding;
}

/** Messages sent to a queue on the emulator and received back, as the SQS event source mapping hands them to Lambda. */
async function throughQueue(scene: DemoScene, queue: { url: string; arn: string }, bodies: readonly string[], expected = bodies.length): Promise<SqsEvent> {
  const sqs = scene.factory.create(SQSClient);
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
  const records: SqsRecord[] = [];
  // A resume message carries a delay (1 s): ask until every message has come.
  while (records.length < expected) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    for (const message of Messages ?? []) {
      records.push(sqsRecordOf(message, queue.arn, REGION));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return { Records: records };
}

/** Labelled values, one per row of the before/after table. */
export type DemoState = ReadonlyArray<readonly [string, string]>;

/** What the before/after table shows, read back from the emulator, in the order printed. */
export async function readState(scene: DemoScene, world: World): Promise<DemoState> {
  const { clients } = scene;
  const instanceRows = async (title: string, instance: DemoInstance): Promise<Array<[string, string]>> => {
    const [groups, egress, protection, profile, taken] = await Promise.all([
      interfaceGroups(clients, instance),
      groupEgress(clients, instance),
      terminationProtection(clients, instance),
      instanceProfile(clients, instance),
      snapshots(clients, instance),
    ]);
    return [
      ...Object.entries(groups).map(([eni, names]): [string, string] => [`${title} ${eni} groups`, names]),
      [`${title} egress`, egress],
      [`${title} termination protection`, protection],
      [`${title} instance profile`, profile],
      [`${title} snapshots`, taken.length === 0 ? 'none' : taken.join('\n')],
    ];
  };
  // The web tier around the compromised instance, what the forensics account can open of it, and what was collected from inside it.
  const webTierRows = async (title: string, instance: World['compromised']): Promise<Array<[string, string]>> => {
    const [autoScaling, registration, shared, collected] = await Promise.all([
      autoScalingState(clients, instance),
      targetRegistration(clients, instance, [instance.targetGroupArn]),
      sharedWith(clients, instance, world.forensics.account),
      collections(scene.factory, scene.hosting.evidenceBucket, instance),
    ]);
    return [
      [`${title} Auto Scaling`, autoScaling],
      [`${title} target group`, registration],
      [`${title} shared with forensics account ${world.forensics.account}`, shared.length === 0 ? 'none' : shared.join('\n')],
      [`${title} collection from inside`, collected.length === 0 ? 'none' : collected.join('\n')],
    ];
  };
  const compromisedTitle = `${ACCOUNT_A} web-prod-1 ${world.compromised.instanceId}`;
  const [policyA, policyB, ssh, defaults, compromised, webTier, bastion] = await Promise.all([
    passwordPolicy(clients, ACCOUNT_A),
    passwordPolicy(clients, ACCOUNT_B),
    groupRules(clients, ACCOUNT_A, world.bastion.sshGroupId),
    groupRules(clients, ACCOUNT_B, world.defaultGroup.groupId),
    instanceRows(compromisedTitle, world.compromised),
    webTierRows(compromisedTitle, world.compromised),
    instanceRows(`${ACCOUNT_A} bastion ${world.bastion.instanceId}`, world.bastion),
  ]);
  return [
    [`${ACCOUNT_A} password policy`, policyA],
    [`${ACCOUNT_B} password policy`, policyB],
    [`${ACCOUNT_A} bastion-legacy-sg ${world.bastion.sshGroupId} rules`, ssh],
    [`${ACCOUNT_B} default security group ${world.defaultGroup.groupId} rules`, defaults],
    ...compromised,
    ...webTier,
    ...bastion.filter(([label]) => !label.endsWith('instance profile') && !label.endsWith('snapshots')),
  ];
}

/** Each row: its label, then `before` and `after` lines (a value of several lines indented under its first). */
function describeChanges(before: DemoState, after: DemoState, names: readonly [string, string] = ['before', 'after']): string {
  const lines: string[] = [];
  const width = Math.max(...names.map((name) => name.length));
  const values = (name: string, value: string): string[] => value.split('\n').map((line, index) => `    ${index === 0 ? name.padEnd(width) : ' '.repeat(width)}  ${line}`);
  for (const [label, was] of before) {
    const now = after.find(([other]) => other === label)?.[1] ?? '(gone)';
    lines.push(`  ${label}${was === now ? ' (unchanged)' : ''}`);
    lines.push(...values(names[0], was));
    if (was !== now) lines.push(...values(names[1], now));
  }
  return terminalLines(lines);
}

/** The runs the ledger holds for a finding, one line each. */
async function runLines(runtime: LambdaRuntime, findingId: string): Promise<RunRecord[]> {
  return runtime.ledger.listRunsForFinding(findingId);
}

function describeRecord(run: RunRecord): string {
  return terminalLines([`    run ${run.runId} ${run.playbookId}: ${run.status} (${run.mode}, ${run.trigger}) — ${run.outcome?.summary ?? 'not ended'}`]);
}

/**
 * The mission: both member accounts' problems fed to the Lambda functions'
 * own handlers (built by the same cold start a deployment runs, with the
 * compiled playbook library a package carries) — a Security Hub import, a
 * GuardDuty event and a Config event through the findings queue, a custom
 * action, and an on-demand request over HTTP — then what changed, read back;
 * the isolation rolled back; its timeline.
 */
export async function missionStory(scene: DemoScene, world: World, before: DemoState): Promise<void> {
  const { say, factory, hosting } = scene;
  say('The mission: two member accounts, reached by AssumeRole, and the forensics account:');
  say(`  ${ACCOUNT_A}  bastion ${world.bastion.instanceId} in bastion-legacy-sg ${world.bastion.sshGroupId} (SSH open to the world)`);
  say(
    `  ${ACCOUNT_A}  web-prod-1 ${world.compromised.instanceId}: interfaces ${Object.keys(world.compromised.interfaces).join(', ')}, volumes ${world.compromised.volumeIds.join(', ')} (the data volume encrypted under the AWS managed key), profile web-prod-instance-profile`,
  );
  say(
    `                in Auto Scaling group ${world.compromised.autoScalingGroupName} and target group ${world.compromised.targetGroupName} (port 80); its SSM agent online (the emulator's agent runs no command: a collection writes no output)`,
  );
  say(`                in ${world.compromised.vpcId}, which has the ssm, ssmmessages and ec2messages interface endpoints and an S3 gateway endpoint`);
  say(`  ${ACCOUNT_A}  ${world.forensics.keyAlias} and the ${world.forensics.collectionProfileArn.replace(/^.*\//, '')} instance profile, as the member template creates them`);
  say(`  ${ACCOUNT_B}  default security group ${world.defaultGroup.groupId} of ${world.defaultGroup.vpcId} with rules; a weak password policy`);
  say(`  ${world.forensics.account}  the forensics account (RIPOSTE_FORENSICS_ACCOUNT), no member: evidence snapshots are shared with it`);
  say();

  // The library a package carries, compiled, read back by the functions' cold start (RIPOSTE_PLAYBOOK_LIBRARY).
  const directory = await mkdtemp(join(tmpdir(), 'riposte-demo-'));
  // Removed on the way out, and by an exit hook when Ctrl-C ends the demo first (signals.ts runs exit hooks).
  const removeDirectory = (): void => rmSync(directory, { recursive: true, force: true });
  process.once('exit', removeDirectory);
  const gateways: Array<{ close(): Promise<void> }> = [];
  try {
    const library = join(directory, 'playbooks.json');
    await writeFile(library, compiledLibraryText(scene.playbooks));
    const environment: Record<string, string> = {
      AWS_REGION: REGION,
      RIPOSTE_AWS_ENDPOINT: scene.endpoint,
      RIPOSTE_MAX_ATTEMPTS: '2',
      RIPOSTE_AUTOMATIC: 'enforce',
      RIPOSTE_LEDGER_TABLE: hosting.table,
      RIPOSTE_RESUME_QUEUE_URL: hosting.resumeQueue.url,
      RIPOSTE_TOPIC_ARN: hosting.topicArn,
      RIPOSTE_EVENT_BUS: hosting.bus,
      RIPOSTE_EVIDENCE_BUCKET: hosting.evidenceBucket,
      RIPOSTE_EVIDENCE_SIGNING_KEY: hosting.evidenceSigningKey,
      // The account ec2-compromise-isolate's snapshots (shareWithAccount: forensics) are shared with: no member account.
      RIPOSTE_FORENSICS_ACCOUNT: world.forensics.account,
      RIPOSTE_EXTERNAL_ID: 'riposte-demo',
      RIPOSTE_PLAYBOOK_LIBRARY: library,
      // The responders' role the demo's analyst acts in, as a deployment names it in apiPrincipals.
      RIPOSTE_API_PRINCIPALS: 'arn:aws:iam::999988887777:role/SecOpsResponder',
    };
    const logs = new MemoryLogSink();
    const runtime = await createLambdaRuntime({
      environment,
      factory: new AwsClientFactory(loadConfig(environment).aws, emulatorClientOptions()),
      // The functions' log lines and metrics go to CloudWatch in AWS; here they are kept, not printed.
      logger: new RiposteLogger({ logLevel: 'debug', stream: logs }),
      metrics: new MemoryMetricsSink(),
    });
    const shared = (): Promise<LambdaRuntime> => Promise.resolve(runtime);
    say(`The Lambda functions' handlers, built as deployed (${runtime.playbooks.length} playbooks from the compiled library), with RIPOSTE_AUTOMATIC=enforce: automatic remediation is enforced.`);
    say();

    // 1. The findings queue: a Security Hub import, a GuardDuty event and a Config event in one SQS batch.
    const openSsh = await example(scene, 'securityhub-open-ssh.json', { 'sg-0f1e2d3c4b5a69788': world.bastion.sshGroupId, 'vpc-0c1d2e3f4a5b6c7d8': world.bastion.vpcId });
    const guardDuty = await example(scene, 'guardduty-ec2-backdoor.json', { 'i-0a1b2c3d4e5f60718': world.compromised.instanceId });
    const config = await example(scene, 'config-password-policy.json', {});
    const sshFinding = await importInto(scene, openSsh);
    const batch = await throughQueue(scene, hosting.findingsQueue, [openSsh, guardDuty, config]);
    say('findings function ← SQS batch of 3: securityhub-open-ssh.json (Security Hub, imported), guardduty-ec2-backdoor.json (GuardDuty), config-password-policy.json (Config)');
    const response = await findingsHandler(shared)(batch, lambdaContext('riposte-demo-findings'));
    say(`  batch      ${response.batchItemFailures.length} message${response.batchItemFailures.length === 1 ? '' : 's'} handed back for redelivery`);
    let isolation: RunRecord | undefined;
    for (const [name, body] of [
      ['Security Hub EC2.13', openSsh],
      ['GuardDuty', guardDuty],
      ['Config iam-password-policy', config],
    ] as const) {
      const [finding] = readEvent(body).findings;
      if (finding === undefined) continue;
      say(terminalLines([`  ${name}: ${finding.title}`]));
      for (const run of await runLines(runtime, finding.id)) {
        say(describeRecord(run));
        if (run.playbookId === 'ec2-compromise-isolate') isolation = run;
      }
    }
    say();

    // 2. A custom action an analyst picked in Security Hub on a finding Security Hub holds.
    const customAction = await example(scene, 'securityhub-custom-action-default-sg.json', {
      'sg-0d4e5f6a7b8c9d0e1': world.defaultGroup.groupId,
      'vpc-0a9b8c7d6e5f40312': world.defaultGroup.vpcId,
    });
    const defaultFinding = await importInto(scene, customAction);
    say('custom-action function ← securityhub-custom-action-default-sg.json (action EmptyDefaultSg, "Empty default SG")');
    const outcome = await customActionHandler(shared)(JSON.parse(customAction), lambdaContext('riposte-demo-custom-action'));
    for (const run of outcome.runs) say(terminalLines([`    run ${run.runId ?? '(none)'} ${run.playbookId}: ${run.status} — ${run.summary}`]));
    say();

    // 3. One on-demand request over HTTP, to the API function behind a loopback stand-in for API Gateway.
    const gateway = await loopbackGateway(apiHandler(shared), () => lambdaContext('riposte-demo-api', 30_000));
    gateways.push(gateway);
    const request = await example(scene, 'api-respond.json', { 'i-0f9e8d7c6b5a41302': world.bastion.instanceId });
    say(`api function ← POST ${gateway.url}/respond (examples/events/api-respond.json), caller named by the gateway's requestContext.identity`);
    const answer = await fetch(`${gateway.url}/respond`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: request });
    const accepted = (await answer.json()) as { runId?: string; requestedBy?: string; runs?: Array<{ playbookId: string; status: string; summary: string }> };
    say(terminalLines([`  answer     HTTP ${answer.status}: run ${accepted.runId ?? '(none)'} requested by ${accepted.requestedBy ?? '(nobody)'}`]));
    for (const run of accepted.runs ?? []) say(terminalLines([`    ${run.playbookId}: ${run.status} — ${run.summary}`]));
    const resumes = await throughQueue(scene, hosting.resumeQueue, [], accepted.runs?.filter((run) => run.status === 'in-progress').length ?? 0);
    if (resumes.Records.length > 0) {
      const resumed = await resumeHandler(shared)(resumes, lambdaContext('riposte-demo-resume'));
      say(`  resume     the resume function took ${resumes.Records.length} message${resumes.Records.length === 1 ? '' : 's'} from the resume queue (${resumed.batchItemFailures.length} handed back)`);
    }
    if (accepted.runId !== undefined) {
      const shown = await fetch(`${gateway.url}/runs/${accepted.runId}`);
      const body = (await shown.json()) as { run?: { status?: string; outcome?: { summary?: string } } };
      say(terminalLines([`  GET /runs/${accepted.runId}: HTTP ${shown.status}, ${body.run?.status ?? '?'} — ${body.run?.outcome?.summary ?? ''}`]));
    }
    say();

    // 4. Before and after, read back from the emulator.
    const after = await readState(scene, world);
    say('Before and after, both accounts (read back from the emulator; before = as the demo made them, ahead of the CIS story):');
    say(describeChanges(before, after));
    if (isolation !== undefined) {
      // The isolation run's evidence, each object's digest computed from the bytes read back and compared with the one its run recorded.
      const recorded = new Map(((await runtime.ledger.getRun(isolation.runId))?.steps ?? []).flatMap((step) => (step.evidence ?? []).map((item) => [item.key, item.sha256] as const)));
      const prefix = [...recorded.keys()][0]?.replace(/[^/]*$/, '') ?? '';
      const evidence = (await evidenceObjects(factory, hosting.evidenceBucket)).filter((object) => prefix !== '' && object.key.startsWith(prefix) && !object.key.endsWith('.sha256'));
      say(`  evidence of run ${isolation.runId} in s3://${hosting.evidenceBucket}/${prefix} (each with its .sha256 file):`);
      for (const object of evidence) {
        const check = recorded.get(object.key) === undefined ? 'not in the run record' : recorded.get(object.key) === object.sha256 ? 'matches the run record' : 'DIFFERS from the run record';
        say(terminalLines([`    ${object.key.slice(prefix.length).padEnd(40)} ${String(object.bytes).padStart(5)} bytes  sha256 ${object.sha256}  ${check}`]));
      }
      // What an investigator does later, with the public key alone (riposte evidence verify).
      say(terminalLines([`  ${await manifestCheck(factory, hosting.evidenceBucket, `${prefix}manifest.json`, hosting.evidenceSigningKey)}`]));
    }
    for (const finding of [sshFinding, defaultFinding]) {
      const state = await findingState(factory, finding.Id as string, finding.ProductArn as string);
      say(terminalLines([`  finding ${finding.Id} (GetFindings)`, `    workflow ${state.workflow}; note ${state.note}`]));
    }
    const messages = await sentNotifications(scene.endpoint, hosting.topicArn);
    say(`  SNS ${hosting.topicArn}: ${messages.length} messages`);
    for (const message of messages) say(terminalLines([`    ${message.subject}`]));
    say();

    // 5. The isolation, rolled back.
    if (isolation === undefined) {
      say('No isolation run to roll back.');
      return;
    }
    say(`Rolling back the isolation run ${isolation.runId}:`);
    const rollback = await runtime.pipeline.rollback(isolation.runId, { requestedBy: 'riposte demo', reason: 'the demo puts the instance back as it was' });
    say(terminalLines([`  rollback   ${rollback.runId ?? ''} — ${rollback.status}: ${rollback.summary}`]));
    const restored = await readState(scene, world);
    const instanceLabel = `${ACCOUNT_A} web-prod-1 ${world.compromised.instanceId}`;
    // The evidence stays (the snapshots in the member account, the collection's record): everything else is put back.
    const rows = (state: DemoState): DemoState => state.filter(([label]) => label.startsWith(instanceLabel) && !label.endsWith('snapshots') && !label.endsWith('collection from inside'));
    say(describeChanges(rows(after), rows(restored), ['isolated', 'restored']));
    const original = rows(before);
    const back = rows(restored).every(([label, value]) => original.find(([other]) => other === label)?.[1] === value);
    say(
      `  the instance is ${back ? 'as it was before the isolation' : 'NOT as it was before the isolation'} (groups, egress, termination protection, profile, Auto Scaling, target group, nothing shared); the evidence stays`,
    );
    say();

    // 6. Its timeline, from the ledger.
    const record = await runtime.ledger.getRun(isolation.runId);
    if (record !== undefined) {
      say(`Timeline of the isolation run (riposte runs --id ${isolation.runId}):`);
      say(describeTimeline(record, await findingRecordStatus(runtime.ledger, isolation.runId)));
      say();
    }
  } finally {
    for (const gateway of gateways) await gateway.close();
    process.removeListener('exit', removeDirectory);
    removeDirectory();
  }
}
