import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AssociateIamInstanceProfileCommand,
  AttachVolumeCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { join } from 'node:path';
import { expect } from 'vitest';

import { builtInActions, type ActionRegistry } from '../../src/actions/index.js';
import { createEvidenceBucket } from '../../src/emulator/index.js';
import type { AwsClientFactory, MemberClients } from '../../src/aws/index.js';
import { IndexedMatcher } from '../../src/engine/index.js';
import { readEvent, type IntakeResult } from '../../src/intake/index.js';
import { DynamoDbRunLedger, runLedgerTableProperties } from '../../src/ledger/index.js';
import { compilePlaybooks, loadPlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import {
  AwsRunRecorder,
  DEFAULT_PIPELINE_SETTINGS,
  RESULT_EVENT_DETAIL_TYPE,
  RESULT_EVENT_SOURCE,
  MemoryResumeQueue,
  Pipeline,
  type PipelineOptions,
  type PipelineResult,
  type PipelineSettings,
  type PlaybookRunResult,
  type ResumeQueue,
} from '../../src/pipeline/index.js';
import { memberClients } from './action-context.js';
import { emulatorClientFactory, emulatorData, emulatorEndpoint, resetEmulator } from './emulator.js';
import { importEventFindings } from './emulator-securityhub.js';
import { FindingUpdateLog } from './finding-updates.js';
import { flakyProxy } from './flaky-proxy.js';
import { ec2InstanceProfile } from './instance-profiles.js';
import { fixture } from './fixtures.js';

export const HOSTING_ACCOUNT = '123456789012';
export const EVIDENCE_BUCKET = 'riposte-evidence-e2e';
export const LEDGER_TABLE = 'riposte-ledger-e2e';
export const EVENT_BUS = 'riposte-e2e';
/** An AMI moto 5.2.1 ships. */
const AMI = 'ami-12c6146b';
const root = join(import.meta.dirname, '..', '..');

/** The one run a finding's result holds, failing the test unless it holds exactly one. */
export function onlyRun(runs: readonly PlaybookRunResult[] | undefined): PlaybookRunResult {
  expect(runs).toHaveLength(1);
  return (runs as PlaybookRunResult[])[0] as PlaybookRunResult;
}

/** The library in playbooks/, compiled. */
export async function libraryPlaybooks(): Promise<readonly CompiledPlaybook[]> {
  const { playbooks, problems } = await loadPlaybooks(join(root, 'playbooks'));
  if (problems.length > 0) throw new Error(problems.map((problem) => problem.message).join('\n'));
  return playbooks;
}

/** The library with every step run after the one before it (no `concurrent` groups): for tests of what a step in sequence leads to. */
export async function sequentialLibrary(): Promise<readonly CompiledPlaybook[]> {
  return (await libraryPlaybooks()).map((compiled) => ({
    ...compiled,
    playbook: { ...compiled.playbook, steps: compiled.playbook.steps.map((step) => ({ ...step, concurrent: false })) },
  }));
}

/** Playbooks from YAML text (a test's own), compiled against the built-in actions. */
export function playbooksFromYaml(text: string, registry: ActionRegistry = builtInActions()): CompiledPlaybook[] {
  return compilePlaybooks([{ path: 'test.yml', text }], registry);
}

export interface PipelineLab {
  readonly pipeline: Pipeline;
  /** The same pipeline acting as another identity (member clients and hosting factory, e.g. least-privileged ones). */
  as(identity: { clients: MemberClients; factory: AwsClientFactory }): Pipeline;
  readonly ledger: DynamoDbRunLedger;
  /** Every line the lab's pipeline logged. */
  readonly logs: MemoryLogSink;
  readonly resumeQueue: ResumeQueue;
  readonly clients: MemberClients;
  /**
   * `factory`, with its BatchUpdateFindings requests kept for `findingUpdates()` (the lab's own
   * pipelines' factories already are): for a runtime built beside the lab, e.g. a Lambda handler's.
   */
  observe(factory: AwsClientFactory): AwsClientFactory;
  readonly topicArn: string;
  /** SNS messages moto recorded as sent to the topic (from /moto-api/data.json). */
  sentNotifications(): Promise<Array<{ subject: string; message: string }>>;
  /** Closes the ledger's proxy: call after each test. */
  close(): Promise<void>;
  /** `Riposte Remediation Result` events delivered so far (received from the queue the bus's rule feeds; each is read once). */
  resultEvents(): Promise<Array<{ 'detail-type': string; source: string; detail: Record<string, unknown> }>>;
  /**
   * The BatchUpdateFindings requests Riposte made (through the lab's pipelines, or a factory
   * given to `observe`), in order. They went to the emulator: read the finding back
   * (`readEventFinding`) for what Security Hub made of them.
   */
  findingUpdates(): BatchUpdateFindingsCommandInput[];
}

export interface PipelineLabOptions {
  readonly playbooks?: readonly CompiledPlaybook[];
  readonly settings?: Partial<PipelineSettings>;
  readonly registry?: ActionRegistry;
  readonly clients?: MemberClients;
  readonly resumeQueue?: ResumeQueue;
}

/**
 * The pipeline as the lab runs it: an event's Security Hub findings are put
 * into the emulator's Security Hub before the event is handled. In AWS a
 * Security Hub event exists because Security Hub holds its findings, so
 * Riposte's note and workflow land on them (a finding Security Hub lacks is
 * answered with UnprocessedFindings, as the record-retry tests show).
 */
class LabPipeline extends Pipeline {
  override async handleEvent(event: unknown, options: PipelineOptions = {}): Promise<PipelineResult> {
    await importEventFindings(event);
    return super.handleEvent(event, options);
  }
}

/**
 * A pipeline wired as production wires it, against this file's emulator:
 * the ledger on a DynamoDB table, the evidence bucket and SNS topic in the
 * hosting account, member accounts through AssumeRole, Security Hub on the
 * emulator (the project's launcher implements BatchUpdateFindings and
 * GetFindings filters), with every BatchUpdateFindings request also kept for
 * `findingUpdates()`.
 */
export async function pipelineLab(options: PipelineLabOptions = {}): Promise<PipelineLab> {
  // Each test starts from an empty emulator (this file's own: the lease gives it no other user).
  await resetEmulator();
  const factory = emulatorClientFactory();
  const table = runLedgerTableProperties();
  await factory.create(DynamoDBClient).send(
    new CreateTableCommand({
      TableName: LEDGER_TABLE,
      KeySchema: [...table.KeySchema],
      AttributeDefinitions: [...table.AttributeDefinitions],
      BillingMode: table.BillingMode,
    }),
  );
  await createEvidenceBucket(factory.create(S3Client, {}, { forcePathStyle: true }), EVIDENCE_BUCKET);
  const { TopicArn } = await factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-e2e' }));
  const topicArn = TopicArn as string;
  // The result-event bus, with a rule delivering Riposte's events to a queue the test reads.
  const events = factory.create(EventBridgeClient);
  await events.send(new CreateEventBusCommand({ Name: EVENT_BUS }));
  const sqs = factory.create(SQSClient);
  const resultQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'riposte-e2e-results' }))).QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: resultQueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: 'results', EventBusName: EVENT_BUS, EventPattern: JSON.stringify({ source: [RESULT_EVENT_SOURCE], 'detail-type': [RESULT_EVENT_DETAIL_TYPE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'results', EventBusName: EVENT_BUS, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }));

  const findingUpdates = new FindingUpdateLog();

  // The ledger goes through a serial proxy: races on one run record rely on DynamoDB applying writes to one item in turn, which moto does not (see flaky-proxy.ts).
  const serial = await flakyProxy(emulatorEndpoint(), { serial: true });
  const ledgerClient = (through: AwsClientFactory): DynamoDBDocumentClient => DynamoDBDocumentClient.from(through.create(DynamoDBClient, {}, { endpoint: serial.endpoint }));
  const ledger = new DynamoDbRunLedger(ledgerClient(factory), LEDGER_TABLE);
  const logs = new MemoryLogSink();
  const logger = new RiposteLogger({ logLevel: 'debug', stream: logs });
  const resumeQueue = options.resumeQueue ?? new MemoryResumeQueue();
  const registry = options.registry ?? builtInActions();
  const playbooks = options.playbooks ?? (await libraryPlaybooks());
  const clients = options.clients ?? memberClients();
  const build = (as: { clients: MemberClients; factory: AwsClientFactory }): Pipeline => {
    // Both Security Hub writers (the recorder's note and workflow, the finding.update action) take their clients from the hosting factory.
    const hosting = findingUpdates.observe(as.factory);
    return new LabPipeline({
      settings: { ...DEFAULT_PIPELINE_SETTINGS, ...options.settings },
      playbooks,
      matcher: new IndexedMatcher(playbooks),
      registry,
      ledger: as.factory === factory ? ledger : new DynamoDbRunLedger(ledgerClient(as.factory), LEDGER_TABLE),
      clients: as.clients,
      hosting: { factory: hosting, evidenceBucket: EVIDENCE_BUCKET, topicArn },
      recorder: new AwsRunRecorder(hosting, { topicArn, eventBus: { name: EVENT_BUS, region: 'us-east-1' } }),
      resumeQueue,
      logger,
    });
  };
  const pipeline = build({ clients, factory });

  return {
    pipeline,
    as: build,
    ledger,
    logs,
    resumeQueue,
    clients,
    observe: (through) => findingUpdates.observe(through),
    topicArn,
    async sentNotifications() {
      const data = (await emulatorData()) as { sns?: { Topic?: Record<string, { sent_notifications?: Array<[string, string, string | null]> }> } };
      const topics = Object.values(data.sns?.Topic ?? {}) as Array<{ arn?: string; sent_notifications?: Array<[string, string, string | null]> }>;
      return topics
        .filter((topic) => topic.arn === undefined || topic.arn === topicArn)
        .flatMap((topic) => topic.sent_notifications ?? [])
        .map(([, message, subject]) => ({ subject: subject ?? '', message }));
    },
    async close() {
      await serial.close();
    },
    async resultEvents() {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: resultQueueUrl, MaxNumberOfMessages: 10 }));
      return (Messages ?? []).map((message) => JSON.parse(message.Body as string) as { 'detail-type': string; source: string; detail: Record<string, unknown> });
    },
    findingUpdates: () => findingUpdates.requests(),
  };
}

/** A fixture event moved to `account` (the fixtures' member account 111122223333 replaced everywhere), with more replacements if given. */
export function eventFor(name: string, account: string, replacements: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  let text = JSON.stringify(fixture(name)).replaceAll('111122223333', account);
  for (const [from, to] of Object.entries(replacements)) text = text.replaceAll(from, to);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Intake of a fixture event moved to `account`. */
export function intakeFor(name: string, account: string, replacements: Readonly<Record<string, string>> = {}): IntakeResult {
  return readEvent(eventFor(name, account, replacements));
}

export interface CompromisedInstance {
  readonly instanceId: string;
  readonly vpcId: string;
  /** The groups each interface had: primary in `web`, secondary in `admin` and `web`. */
  readonly interfaces: Readonly<Record<string, readonly string[]>>;
  readonly volumeIds: readonly string[];
  readonly roleName: string;
  readonly profileArn: string;
}

/**
 * In a member account: an instance with two interfaces, two volumes and an
 * instance profile (named as the GuardDuty fixture names it:
 * `web-prod-instance-profile`) — what a compromise response acts on.
 */
export async function compromisedInstance(clients: MemberClients, account: string, options: { tags?: Record<string, string>; suffix?: string } = {}): Promise<CompromisedInstance> {
  const target = { account, region: 'us-east-1', partition: 'aws' as const, correlationId: 'lab' };
  const ec2 = clients.create(EC2Client, target);
  const iam = clients.create(IAMClient, target);
  const suffix = options.suffix ?? '';
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId as string;
  const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.3.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet?.SubnetId as string;
  const web = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `web${suffix}`, Description: 'web servers' }))).GroupId as string;
  const admin = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `admin${suffix}`, Description: 'admin access' }))).GroupId as string;
  const { Instances } = await ec2.send(
    new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [web] }] }),
  );
  const instance = Instances?.[0];
  const instanceId = instance?.InstanceId as string;
  const primary = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
  const secondary = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [admin, web] }))).NetworkInterface?.NetworkInterfaceId as string;
  await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondary, InstanceId: instanceId, DeviceIndex: 1 }));
  const rootVolume = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string;
  const { VolumeId: dataVolume } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: instance?.Placement?.AvailabilityZone, Size: 10 }));
  await ec2.send(new AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: instanceId, Device: '/dev/sdf' }));
  if (options.tags !== undefined) {
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) }));
  }

  const roleName = `web-prod${suffix}`;
  const profileArn = await ec2InstanceProfile(iam, roleName, `web-prod${suffix}-instance-profile`);
  await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: profileArn } }));
  return {
    instanceId,
    vpcId,
    interfaces: { [primary]: [web], [secondary]: [admin, web] },
    volumeIds: [rootVolume, dataVolume as string],
    roleName,
    profileArn,
  };
}

/** The GuardDuty backdoor fixture, about `instance` in `account`. */
export function guardDutyEventFor(account: string, instance: CompromisedInstance, extra: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  return eventFor('guardduty-ec2-backdoor.json', account, {
    'i-0a1b2c3d4e5f60718': instance.instanceId,
    'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
    ...extra,
  });
}

/** The groups on each of the instance's interfaces, read back from the emulator (sorted). */
export async function interfaceGroups(ec2: EC2Client, instance: CompromisedInstance): Promise<Record<string, string[]>> {
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId as string, (eni.Groups ?? []).map((group) => group.GroupId as string).sort()]));
}

/** The groups each interface of the instance had when it was made (sorted, as `interfaceGroups` reads them). */
export const originalGroups = (instance: CompromisedInstance): Record<string, string[]> => Object.fromEntries(Object.entries(instance.interfaces).map(([eni, groups]) => [eni, [...groups].sort()]));

/** Whether the instance's termination protection is on, read back from the emulator. */
export async function terminationProtected(ec2: EC2Client, instanceId: string): Promise<boolean> {
  const { DisableApiTermination } = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
  return DisableApiTermination?.Value === true;
}
