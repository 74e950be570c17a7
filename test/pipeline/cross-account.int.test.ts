import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { randomBytes, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ApiGatewayProxyResult } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { lambdaContext, lambdaLab, proxyEvent, type LambdaLab } from '../handlers/lambda-lab.js';
import { AccountCalls } from '../support/account-calls.js';
import { compromisedInstance, eventFor, HOSTING_ACCOUNT, type CompromisedInstance } from '../support/pipeline-lab.js';

/*
 * Issue 14, "the API under attack": a finding from account A that names a
 * resource in account B never leads Riposte to act in B. Each event goes
 * through the findings function (SQS → handler → pipeline, automatic:
 * enforce) or the API function; every AWS call the runtime makes is counted
 * by the account whose credentials signed it (AccountCalls), and B's
 * resources are read back unchanged.
 */

/** The account the finding comes from. */
const A = '222222222222';
/** The account whose resources the finding names. */
const B = '333333333333';
const REGION = 'us-east-1';
const SSH_FROM_ANYWHERE: IpPermission = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

type Json = Record<string, unknown>;
const asffFinding = (event: Json): Json => (event.detail as { findings: Json[] }).findings[0] as Json;
const asffResource = (event: Json): Json => (asffFinding(event).Resources as Json[])[0] as Json;

/** The finding ids of the fixtures used here: each test's event gets fresh ones, so no test's run is taken for another's (idempotency). */
const FIXTURE_FINDING_IDS = ['5a82ee9adccd84d14d108fae10cd4bb8', 'ed11922f-86d5-48bc-b784-4d69fcf13037', '353804ef-ffb5-480c-a695-746b180e3ca5'];

/** A fixture event from account A (`eventFor`), as a new delivery of a new finding: its event id and finding id are its own. */
function freshEvent(name: string, replacements: Readonly<Record<string, string>> = {}): Json {
  const unique = randomBytes(16).toString('hex');
  const ids = Object.fromEntries(FIXTURE_FINDING_IDS.map((id) => [id, id.includes('-') ? randomUUID() : unique]));
  return { ...eventFor(name, A, { ...ids, ...replacements }), id: randomUUID() };
}

const calls = new AccountCalls(HOSTING_ACCOUNT);
let lab: LambdaLab;
/** B's resources: an instance a compromise response would change, a group open to SSH. */
let victim: CompromisedInstance;
let victimGroup: string;

const inB = { account: B, region: REGION, partition: 'aws' as const, correlationId: 'readback' };
const ec2B = (): EC2Client => lab.lab.clients.create(EC2Client, inB);
const iamOf = (account: string): IAMClient => lab.lab.clients.create(IAMClient, { ...inB, account });

beforeAll(async () => {
  lab = await lambdaLab({ plugins: [calls.plugin] });
  victim = await compromisedInstance(lab.lab.clients, B);
  victimGroup = (await ec2B().send(new CreateSecurityGroupCommand({ VpcId: victim.vpcId, GroupName: 'bastion', Description: 'bastion' }))).GroupId as string;
  await ec2B().send(new AuthorizeSecurityGroupIngressCommand({ GroupId: victimGroup, IpPermissions: [SSH_FROM_ANYWHERE] }));
});
afterAll(async () => {
  await lab?.close();
});
beforeEach(() => calls.clear());

/** Everything in B a playbook of the library could change, read back from the emulator. */
async function stateOfB(): Promise<unknown> {
  const ec2 = ec2B();
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...victim.volumeIds] }] }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }));
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [victim.instanceId] }] }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(victim.interfaces) }));
  const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [victimGroup] }));
  return {
    snapshots: Snapshots?.length ?? 0,
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    profiles: (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated').map((association) => association.IamInstanceProfile?.Arn),
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId, (eni.Groups ?? []).map((group) => group.GroupId).sort()])),
    bastionIngress: SecurityGroups?.[0]?.IpPermissions,
    passwordPolicy: await passwordPolicy(B),
  };
}

async function passwordPolicy(account: string): Promise<unknown> {
  try {
    return (await iamOf(account).send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return 'none';
    throw error;
  }
}

const UNTOUCHED = (): unknown => ({
  snapshots: 0,
  terminationProtection: false,
  profiles: [victim.profileArn],
  groups: Object.fromEntries(Object.entries(victim.interfaces).map(([eni, ids]) => [eni, [...ids].sort()])),
  bastionIngress: [expect.objectContaining({ FromPort: 22, ToPort: 22, IpRanges: [expect.objectContaining({ CidrIp: '0.0.0.0/0' })] })],
  passwordPolicy: 'none',
});

/** What stopped each run: its status and the guard's code, from the ledger. */
const verdicts = (runs: readonly RunRecord[]): Array<[string, unknown]> => runs.map((run) => [run.status, (run.outcome?.details as { guard?: { code?: string } } | undefined)?.guard?.code]);

/** Delivers `events` as the findings queue hands them to the function; answers each finding's runs as the ledger holds them. */
async function deliver(...events: Json[]): Promise<RunRecord[]> {
  const batch = await lab.findingsBatch(events.map((event) => JSON.stringify(event)));
  const response = await lab.findings(batch, lambdaContext());
  expect(response).toEqual({ batchItemFailures: [] });
  return runsOf(events);
}

/** The runs the events started (their `run started` log lines, by correlation id: each event's id), read back from the ledger. */
async function runsOf(events: readonly Json[]): Promise<RunRecord[]> {
  const ids = new Set(events.map((event) => event.id as string));
  const started = lab.logs.entries.filter((entry) => entry.message === 'run started' && ids.has(entry.attributes.correlationId as string));
  const records = await Promise.all(started.map((entry) => lab.runtime.ledger.getRun(entry.attributes.runId as string)));
  return records.filter((record): record is RunRecord => record !== undefined);
}

describe('a finding from account A naming a resource in account B (findings function, automatic: enforce)', () => {
  it('ASFF: AwsAccountId A, Resources[0].Id AWS::::Account:B — B’s password policy is not set, no call is made in B', async () => {
    const event = freshEvent('securityhub-imported-cis-password-policy.json');
    asffResource(event).Id = `AWS::::Account:${B}`;

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    expect(verdicts(runs)).toEqual([['skipped', 'target-disputed']]);
  });

  it('ASFF: AwsAccountId A, a security group ARN in B (Id and Details agree on B’s group) — B’s SSH rule stays, no call is made in B', async () => {
    const event = freshEvent('securityhub-imported-open-ssh.json', { 'sg-0f1e2d3c4b5a69788': victimGroup });
    asffResource(event).Id = `arn:aws:ec2:${REGION}:${B}:security-group/${victimGroup}`;
    ((asffResource(event).Details as Json).AwsEc2SecurityGroup as Json).OwnerId = B;

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    expect(verdicts(runs)).toEqual([['skipped', 'target-disputed']]);
  });

  it('ASFF (GuardDuty through Security Hub): AwsAccountId A, the instance ARN of B’s instance — B’s instance is not isolated, snapshotted or protected, no call is made in B', async () => {
    const event = freshEvent('securityhub-imported-guardduty-ec2.json', { 'i-0a1b2c3d4e5f60718': victim.instanceId });
    asffResource(event).Id = `arn:aws:ec2:${REGION}:${B}:instance/${victim.instanceId}`;

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    expect(verdicts(runs)).toEqual([['skipped', 'target-disputed']]);
  });

  it('GuardDuty: detail.accountId A naming B’s instance id — it is looked up in A only (where AWS shows no such instance): no call is made in B', async () => {
    const event = freshEvent('guardduty-ec2-backdoor.json', { 'i-0a1b2c3d4e5f60718': victim.instanceId, 'web-prod-instance-profile': victim.profileArn.split('/').pop() as string });

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(calls.in(A).length).toBeGreaterThan(0);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    expect(verdicts(runs)).toEqual([['skipped', 'target-stale']]);
  });

  it('OCSF: cloud.account.uid A, a resource owned by B (owner.account.uid, uid_alt) — no call is made in B', async () => {
    const event = freshEvent('securityhub-v2-ocsf-detection.json', { 'i-0a1b2c3d4e5f60718': victim.instanceId });
    const resource = ((asffFinding(event).resources as Json[]) ?? [])[0] as Json;
    resource.owner = { account: { type: 'AWS Account', type_id: 10, uid: B } };
    resource.uid_alt = `arn:aws:ec2:${REGION}:${B}:instance/${victim.instanceId}`;

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    expect(verdicts(runs)).toEqual([['skipped', 'target-disputed']]);
  });

  it('OCSF: cloud.account.uid A, no owner, uid_alt the ARN of B’s instance — no call is made in B', async () => {
    const event = freshEvent('securityhub-v2-ocsf-detection.json', { 'i-0a1b2c3d4e5f60718': victim.instanceId });
    const resource = ((asffFinding(event).resources as Json[]) ?? [])[0] as Json;
    delete resource.owner;
    resource.uid_alt = `arn:aws:ec2:${REGION}:${B}:instance/${victim.instanceId}`;

    const runs = await deliver(event);

    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
    // Intake gives the resource the finding's account (it has no owner), so A is asked about the instance and shows none. (ASFF would take
    // the account from the ARN and dispute it; either refusal acts nowhere.)
    expect(verdicts(runs)).toEqual([['skipped', expect.stringMatching(/^target-(stale|disputed)$/)]]);
  });
});

describe('an on-demand request for account A naming B’s instance (API function)', () => {
  it('answers 404 naming instanceId (A shows no such instance) and makes no call in B', async () => {
    const response: ApiGatewayProxyResult = await lab.api(
      proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify({ instanceId: victim.instanceId, account: A, region: REGION }) }),
      lambdaContext(30_000, 'riposte-test-api'),
    );

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'INSTANCE_NOT_FOUND', field: 'instanceId' } });
    expect(calls.in(B)).toEqual([]);
    expect(await stateOfB()).toEqual(UNTOUCHED());
  });
});
