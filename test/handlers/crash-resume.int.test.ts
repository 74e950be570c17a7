import { spawn } from 'node:child_process';
import { createServer, request as forward, type Server } from 'node:http';
import { join } from 'node:path';

import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';

import { quarantineGroupNameOf } from '../../src/actions/ec2-isolate.js';
import { REVOKE_POLICY_NAME } from '../../src/actions/iam-revoke-role-sessions.js';
import { readEvent } from '../../src/intake/index.js';
import type { SqsBatchResponse, SqsEvent, SqsRecord } from '../../src/lambda/index.js';
import { isTerminal, type RunRecord } from '../../src/ledger/index.js';
import { emulatorClientFactory, emulatorEndpoint } from '../support/emulator.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { FAST_CHECK_SEED } from '../support/fast-check.js';
import type { ProxiedRequest } from '../support/flaky-proxy.js';
import { compromisedInstance, eventFor, EVIDENCE_BUCKET, guardDutyEventFor, type CompromisedInstance } from '../support/pipeline-lab.js';
import { lambdaContext, lambdaLab, type LambdaLab } from './lambda-lab.js';

/*
 * Issue 14, fault tolerance, "Crash and resume": the findings function's
 * process is killed at a random point of a batch, and the batch is delivered
 * again (as SQS does once the message's visibility timeout passes).
 *
 * The kill is real: the function runs in a Node process of its own
 * (test/support/findings-worker.ts), built from the lab's environment as a
 * cold start builds it, against the same emulator, ledger and queues; it
 * sends SIGKILL to itself as the answer to its Nth AWS call comes back (the
 * call took effect, nothing after it ran). N is drawn from the file's seed
 * (FC_SEED, as every property of the suite; test/support/fast-check.ts), or
 * given as RIPOSTE_TEST_KILL_AFTER_CALLS, and named in the test's title.
 * Counting calls, not milliseconds, puts the kill at the same point of the
 * batch on any machine (the order of calls made side by side can differ).
 *
 * The batch: 8 compromised instances in 2 member accounts, 4 reported by
 * GuardDuty's own events, 4 by Security Hub's imports of GuardDuty findings
 * (whose workflow Riposte sets). The isolation playbook runs its six steps
 * side by side. The redelivery runs in this process, with the same message
 * ids and bodies. Then, read back from the emulator, the lab's proxy (every
 * request either process sent) and the ledger:
 * - every instance is isolated (each interface only in its VPC's quarantine
 *   group), protected from termination, its profile detached, its role's
 *   older sessions revoked;
 * - no change was made twice: one CreateSnapshot per volume, one set of
 *   evidence snapshots (and one evidence capture) per instance, one
 *   termination-protection change, one profile detachment, one role policy;
 * - every finding has exactly one succeeded run; a run the kill left
 *   unfinished is marked failed ("abandoned") and the redelivery's run names
 *   it (`retryOf`) and carries the steps it completed (`carriedFromRunId`);
 * - no finding is RESOLVED in Security Hub unless a run verified it.
 */

const ACCOUNTS = ['222222222231', '222222222232'] as const;
const INSTANCES_PER_ACCOUNT = 3; // each in a VPC of its own (moto allows 5 a region, the default one included)
const REGION = 'us-east-1';
const FIXTURE_FINDING = '5a82ee9adccd84d14d108fae10cd4bb8';
const FIXTURE_INSTANCE = 'i-0a1b2c3d4e5f60718';
const QUARANTINE_GROUP = quarantineGroupNameOf({ ssmEndpoints: true }); // the default playbook's
/**
 * Kill points are drawn from 1 to this: the calls the batch makes before its
 * last run records its end (measured here: about 800 calls for the whole batch,
 * which varies with the order of calls made side by side).
 */
const KILL_RANGE = 750;
/** Sized for a loaded 2-core machine, far beyond the child's idle time (a few seconds): it catches a hang, never a slow machine. */
const PROCESS_TIMEOUT_MS = 240_000;
const WORKER = join(import.meta.dirname, '..', 'support', 'findings-worker.ts');

/** mulberry32: the kill point from the seed, so a failure replays with FC_SEED. */
function drawn(seed: number, range: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return 1 + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * range);
}

const given = process.env.RIPOSTE_TEST_KILL_AFTER_CALLS;
const KILL_AFTER = given === undefined || given === '' ? drawn(FAST_CHECK_SEED, KILL_RANGE) : Number(given);
const REPLAY = given === undefined || given === '' ? `FC_SEED=${String(FAST_CHECK_SEED)}` : `RIPOSTE_TEST_KILL_AFTER_CALLS=${given}`;

let lab: LambdaLab | undefined;
let childProxy: Forwarder | undefined;
afterEach(async () => {
  await childProxy?.close();
  childProxy = undefined;
  await lab?.close();
  lab = undefined;
});

interface Compromise {
  readonly account: string;
  readonly instance: CompromisedInstance;
  readonly event: Record<string, unknown>;
  readonly findingId: string;
  /** Whether Security Hub holds the finding (an imported GuardDuty finding), so its workflow can be read back. */
  readonly inSecurityHub: boolean;
}

async function compromise(current: LambdaLab, account: string, index: number, inSecurityHub: boolean): Promise<Compromise> {
  const instance = await compromisedInstance(current.lab.clients, account, { suffix: `-${String(index)}` });
  const findingHex = `${FIXTURE_FINDING.slice(0, -4)}${account.slice(-2)}${String(index).padStart(2, '0')}`;
  const event = inSecurityHub
    ? eventFor('securityhub-imported-guardduty-ec2.json', account, {
        [FIXTURE_INSTANCE]: instance.instanceId,
        'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
        [FIXTURE_FINDING]: findingHex,
        '25d0c0d9-62f9-4afe-a85a-42b010d4e1a8': `25d0c0d9-62f9-4afe-a85a-42b010d4${account.slice(-2)}${String(index).padStart(2, '0')}`,
      })
    : guardDutyEventFor(account, instance, {
        [FIXTURE_FINDING]: findingHex,
        '5427e86e-f87e-46fb-98c9-9a00e862e166': `5427e86e-f87e-46fb-98c9-9a00e862${account.slice(-2)}${String(index).padStart(2, '0')}`,
      });
  const findingId = readEvent(event).findings[0]?.id as string;
  return { account, instance, event, findingId, inSecurityHub };
}

interface WorkerExit {
  readonly signal: NodeJS.Signals | null;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The findings function in its own process, given `batch`, dying at its `killAfter`th AWS call. */
function findingsProcess(environment: Readonly<Record<string, string>>, batch: SqsEvent, killAfter: number): Promise<WorkerExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, ...environment, RIPOSTE_TEST_KILL_AFTER_CALLS: String(killAfter) },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: PROCESS_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(JSON.stringify(batch));
  });
}

/** The calls of the function's process, as the emulator received them. */
interface Forwarder {
  readonly endpoint: string;
  /** Every request forwarded to the emulator (and answered by it), in order. */
  readonly requests: readonly ProxiedRequest[];
  /** Resolves once every request received so far has reached the emulator and been answered. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A serial proxy in front of the emulator for the process that is killed:
 * one request at a time (moto applies concurrent writes to one item out of
 * turn; DynamoDB does not), and a request it received reaches the emulator
 * even when its sender died meanwhile, as a request on the wire reaches AWS.
 * (test/support/flaky-proxy.ts streams each answer back to its sender: an
 * answer to a dead sender never ends, and its serial queue stalls there.)
 */
async function forwarder(target: string): Promise<Forwarder> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let queue: Promise<void> = Promise.resolve();
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const received: ProxiedRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers, body: body.toString('utf8') };
      queue = queue.then(
        () =>
          new Promise<void>((settled) => {
            const sent = forward(
              { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: received.method, path: received.path, headers: incoming.headers },
              (answer) => {
                const parts: Buffer[] = [];
                answer.on('data', (part: Buffer) => parts.push(part));
                answer.on('end', () => {
                  requests.push(received);
                  settled();
                  // The sender may be dead: its answer is dropped, the request counted.
                  if (outgoing.destroyed) return;
                  outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
                  outgoing.end(Buffer.concat(parts));
                });
                answer.on('error', () => {
                  outgoing.destroy();
                  settled();
                });
              },
            );
            sent.on('error', () => {
              outgoing.destroy();
              settled();
            });
            sent.end(body);
          }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the forwarder has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${String(address.port)}`,
    requests,
    drained: async () => {
      for (let last: Promise<void> | undefined; last !== queue;) {
        last = queue;
        await last;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const target = (account: string) => ({ account, region: REGION, partition: 'aws' as const, correlationId: 'readback' });

/** The query parameter `key` of each request named `action` that went through `proxies`. */
const sent = (proxies: ReadonlyArray<{ readonly requests: readonly ProxiedRequest[] }>, action: string, key: string): string[] =>
  proxies.flatMap((proxy) =>
    proxy.requests.flatMap((request) => {
      const form = new URLSearchParams(request.body);
      return form.get('Action') === action ? [form.get(key) ?? ''] : [];
    }),
  );

const counted = (values: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
};

/** Whether the run verified its changes: it recorded verifications, and every one held. */
const verified = (run: RunRecord): boolean => {
  const verifications = run.steps.filter((step) => step.phase === 'verify');
  return verifications.length > 0 && verifications.every((step) => step.status === 'compliant' || step.status === 'changed');
};

/** The run-phase steps a run completed (changed or compliant), latest record of each index. */
const completedSteps = (run: RunRecord): number[] => {
  const latest = new Map<number, RunRecord['steps'][number]>();
  for (const step of run.steps) if (step.phase === 'run') latest.set(step.index, step);
  return [...latest.values()]
    .filter((step) => step.status === 'changed' || step.status === 'compliant')
    .map((step) => step.index)
    .sort((a, b) => a - b);
};

/** The undo of each run-phase step, by action (the latest record of each step). */
const undoOf = (run: RunRecord): Map<string, unknown> => {
  const latest = new Map<number, RunRecord['steps'][number]>();
  for (const step of run.steps) if (step.phase === 'run') latest.set(step.index, step);
  return new Map([...latest.values()].flatMap((step) => (step.undo === undefined ? [] : [[step.action, step.undo] as [string, unknown]])));
};

const sortedGroups = (groups: Readonly<Record<string, readonly string[]>>): Record<string, string[]> => Object.fromEntries(Object.entries(groups).map(([eni, ids]) => [eni, [...ids].sort()]));

/** What the emulator holds for one compromised instance: its interfaces' groups, snapshots, protection, profile, role policy, evidence. */
async function readBack(item: Compromise) {
  const ec2 = (lab as LambdaLab).lab.clients.create(EC2Client, target(item.account));
  const iam = (lab as LambdaLab).lab.clients.create(IAMClient, target(item.account));
  const { instance } = item;
  const [{ NetworkInterfaces }, { SecurityGroups }, { Snapshots }, { DisableApiTermination }, { IamInstanceProfileAssociations }] = await Promise.all([
    ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) })),
    ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [instance.vpcId] },
          { Name: 'group-name', Values: [QUARANTINE_GROUP] },
        ],
      }),
    ),
    ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:riposte:instance-id', Values: [instance.instanceId] }] })),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' })),
    ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] })),
  ]);
  const policy = await iam.send(new GetRolePolicyCommand({ RoleName: instance.roleName, PolicyName: REVOKE_POLICY_NAME })).then(
    () => true,
    () => false,
  );
  const s3 = emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `evidence/${item.account}/${instance.instanceId}/` }));
  return {
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId as string, (eni.Groups ?? []).map((group) => group.GroupId as string)])),
    quarantine: SecurityGroups?.[0]?.GroupId,
    snapshotsByVolume: counted((Snapshots ?? []).map((snapshot) => snapshot.VolumeId as string)),
    snapshotRuns: new Set((Snapshots ?? []).map((snapshot) => snapshot.Tags?.find((tag) => tag.Key === 'riposte:run-id')?.Value)),
    protectedFromTermination: DisableApiTermination?.Value === true,
    associatedProfiles: (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated' || association.State === 'associating').length,
    sessionsRevoked: policy,
    evidenceRuns: new Set((Contents ?? []).map((object) => (object.Key as string).split('/')[3])),
  };
}

describe('the findings function killed in the middle of a batch', () => {
  it(
    `completes every finding when the batch is delivered again, without repeating a change, and the ledger shows the takeover (SIGKILL after AWS call ${String(KILL_AFTER)}; replay: ${REPLAY})`,
    async () => {
      const started = Date.now();
      lab = await lambdaLab();
      const current = lab;
      // The accounts are set up side by side; each account's instances one after another (moto's IAM and VPC limits are per account).
      const perAccount = await Promise.all(
        ACCOUNTS.map(async (account) => {
          const made: Compromise[] = [];
          for (let index = 0; index < INSTANCES_PER_ACCOUNT; index += 1) made.push(await compromise(current, account, index, account === ACCOUNTS[1]));
          return made;
        }),
      );
      const compromises = perAccount.flat();
      const batch = await current.findingsBatch(compromises.map((item) => JSON.stringify(item.event)));
      const ready = Date.now();

      // The first receive: the function's process dies at call N. Its calls go through a serial proxy of its own, which
      // delivers what the process sent before it died; the message comes back only after its visibility timeout, by when AWS has
      // answered every request the dead process had sent.
      childProxy = await forwarder(emulatorEndpoint());
      const proxies = [current.proxy, childProxy];
      const first = await findingsProcess({ ...current.environment, RIPOSTE_AWS_ENDPOINT: childProxy.endpoint }, batch, KILL_AFTER);
      await childProxy.drained();
      const killedAt = /killed after call .*/.exec(first.stderr)?.[0];
      const diagnosis = `${REPLAY}; the child's last lines:\n${first.stderr.split('\n').slice(-15).join('\n')}`;
      expect(first.signal, `the function's process was not killed: ${diagnosis}`).toBe('SIGKILL');
      expect(killedAt, diagnosis).toBeDefined();
      const crashed = Date.now();

      // What the dead process left: runs of this delivery that never ended.
      const before = new Map<string, RunRecord[]>();
      for (const item of compromises) before.set(item.findingId, await current.runtime.ledger.listRunsForFinding(item.findingId));
      const unfinished = new Map([...before].flatMap(([findingId, runs]) => runs.filter((run) => !isTerminal(run.status)).map((run): [string, RunRecord] => [findingId, run])));

      // The redelivery: the same messages (ids and bodies), to the function in this process.
      const response: SqsBatchResponse = await current.findings({ Records: batch.Records.map((record): SqsRecord => ({ ...record })) }, lambdaContext());
      const redelivered = Date.now();

      expect.soft(response, diagnosis).toEqual({ batchItemFailures: [] });
      const report: string[] = [];
      for (const [index, item] of compromises.entries()) {
        const name = `${item.instance.instanceId} in ${item.account} (${diagnosis.split(';')[0] as string})`;
        const messageId = batch.Records[index]?.messageId;

        // The instance is contained, once.
        const state = await readBack(item);
        expect.soft(state.quarantine, name).toBeDefined();
        expect.soft(state.groups, name).toEqual(Object.fromEntries(Object.keys(item.instance.interfaces).map((eni) => [eni, [state.quarantine]])));
        expect.soft(state.protectedFromTermination, name).toBe(true);
        expect.soft(state.associatedProfiles, name).toBe(0);
        expect.soft(state.sessionsRevoked, name).toBe(true);
        expect.soft(Object.fromEntries(state.snapshotsByVolume), `${name}: evidence snapshots per volume`).toEqual(Object.fromEntries(item.instance.volumeIds.map((volume) => [volume, 1])));
        expect.soft(state.snapshotRuns.size, `${name}: evidence snapshots taken by more than one run`).toBe(1);
        expect.soft(state.evidenceRuns.size, `${name}: evidence captured by more than one run`).toBe(1);

        // The ledger: one run succeeded; a run the kill left is marked abandoned, and the redelivery's run names it and carries what it completed.
        const runs = await current.runtime.ledger.listRunsForFinding(item.findingId);
        const succeeded = runs.filter((run) => run.status === 'succeeded');
        expect.soft(succeeded.length, `${name}: succeeded runs`).toBe(1);
        const run = succeeded[0];
        if (run === undefined) continue;
        expect.soft(verified(run), `${name}: succeeded without verifying`).toBe(true);
        // What rollback needs: each change's undo, in the run that succeeded (carried from the attempt that made it, its
        // own, or, for a change the killed attempt made without recording it, the undo that attempt's plan gives).
        const undos = undoOf(run);
        expect
          .soft(sortedGroups((undos.get('ec2.isolate') as { previousGroups?: Record<string, string[]> } | undefined)?.previousGroups ?? {}), `${name}: isolation's undo`)
          .toEqual(sortedGroups(item.instance.interfaces));
        expect.soft(undos.get('ec2.detach-instance-profile'), `${name}: the profile detachment's undo`).toMatchObject({ instanceProfileArn: item.instance.profileArn });
        expect.soft(undos.get('iam.revoke-role-sessions'), `${name}: the session revocation's undo`).toMatchObject({ roleName: item.instance.roleName });
        expect.soft(undos.get('ec2.enable-termination-protection'), `${name}: termination protection's undo`).toBeDefined();
        const left = unfinished.get(item.findingId);
        if (left === undefined) {
          // Finished before the kill (the redelivery was a duplicate), or the kill came before its run had a record (the redelivery's run is the only one).
          expect
            .soft(
              runs.map((each) => each.runId),
              name,
            )
            .toEqual([run.runId]);
          expect.soft(run.retryOf, name).toBeUndefined();
          report.push(`${item.instance.instanceId}: ${before.get(item.findingId)?.length === 0 ? 'no record before the kill' : 'finished before the kill'}`);
        } else {
          expect
            .soft(
              runs.map((each) => each.runId),
              name,
            )
            .toEqual([left.runId, run.runId]);
          const abandoned = runs[0] as RunRecord;
          expect.soft(abandoned.status, name).toBe('failed');
          expect.soft(abandoned.outcome?.summary, name).toMatch(new RegExp(`^abandoned: .*retried by run ${run.runId}$`));
          expect.soft(run).toMatchObject({ retryOf: left.runId, attempt: 2, deliveryId: messageId });
          const carried = run.steps.filter((step) => step.phase === 'run' && step.carriedFromRunId === left.runId).map((step) => step.index);
          expect
            .soft(
              carried.sort((a, b) => a - b),
              `${name}: steps carried`,
            )
            .toEqual(completedSteps(abandoned));
          report.push(`${item.instance.instanceId}: taken over at ${left.state.stage}, carried [${carried.join(',')}]`);
        }

        // Security Hub says RESOLVED only for a verified run, and it is this run's note.
        if (item.inSecurityHub) {
          const held = await readEventFinding(item.event);
          expect.soft(held?.Workflow?.Status, name).toBe('RESOLVED');
          expect.soft(held?.Note?.Text, name).toContain(`[riposte run ${run.runId} `);
        }
      }

      // No change made twice, as the requests of both processes show.
      const once = (action: string, key: string, expected: readonly string[]): void => {
        expect.soft(Object.fromEntries(counted(sent(proxies, action, key))), `${action} (${REPLAY})`).toEqual(Object.fromEntries(expected.map((value) => [value, 1])));
      };
      once(
        'CreateSnapshot',
        'VolumeId',
        compromises.flatMap((item) => item.instance.volumeIds),
      );
      once(
        'ModifyInstanceAttribute',
        'InstanceId',
        compromises.map((item) => item.instance.instanceId),
      );
      expect.soft(sent(proxies, 'DisassociateIamInstanceProfile', 'AssociationId').length, REPLAY).toBe(compromises.length);

      console.info(
        `crash and resume: killed ${killedAt ?? ''} (${REPLAY}); ${String(unfinished.size)} runs left unfinished; ${report.join('; ')}; setup ${String(ready - started)} ms, killed process ${String(crashed - ready)} ms, redelivery ${String(redelivered - crashed)} ms, read-back ${String(Date.now() - redelivered)} ms`,
      );
    },
    // Sized for a loaded 2-core machine (about 20 s idle here): it catches a hang, never a slow machine.
    5 * 60_000,
  );
});
