import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
  waitUntilCommandExecuted,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { instanceIdOf } from './ec2-instance.js';
import { SsmCommandFailedError } from './errors.js';
import { DIGEST_METADATA, evidenceBucketOf, evidenceDocument, evidenceS3Of, readObject, sha256, writeJsonEvidence, writeOnce } from './evidence-store.js';
import { defineAction } from './registry.js';
import type { ActionBehaviour, ActionContext, ActionOutcome, ActionPlan } from './runtime.js';

const ACTION = 'ssm.run-command';

const params = z.strictObject({
  document: z._default(z.string().check(z.minLength(1)), 'AWS-RunShellScript'),
  commands: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** SendCommand's TimeoutSeconds. */
  timeoutSeconds: z._default(z.number().check(z.int(), z.minimum(30), z.maximum(172_800)), 600),
  /** How long run() waits for a terminal status before reporting the command as still running (a Lambda runs at most 900 s). */
  waitSeconds: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(840)), 60),
});
type Params = z.output<typeof params>;

/** How long a pipeline waits before looking at a command still running again. */
export const RECHECK_SECONDS = 30;

/** Statuses after which GetCommandInvocation changes no more. Pending, InProgress, Delayed and Cancelling are waited on. */
const TERMINAL = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut']);
export const isTerminal = (result: GetCommandInvocationCommandOutput | undefined): boolean => TERMINAL.has(result?.Status ?? '');
/** SendCommand's limit on Comment. */
export const COMMENT_LIMIT = 100;

/** What the evidence object holds under `data`. */
export interface CommandEvidence {
  readonly document: string;
  readonly commands: readonly string[];
  readonly commandId: string;
  readonly status: string;
  readonly statusDetails?: string;
  readonly responseCode?: number;
  /** GetCommandInvocation returns at most the first 24,000 characters of each stream. */
  readonly standardOutput: string;
  readonly standardError: string;
  readonly executionStartDateTime?: string;
  readonly executionEndDateTime?: string;
}

/** The record written right after SendCommand, so that a later run of the same step waits for that command instead of sending another. */
interface SentRecord {
  readonly commandId: string;
  readonly sentAt: string;
}

const bucketOf = (context: ActionContext): string => evidenceBucketOf(ACTION, context);

/**
 * The evidence key is deterministic: `ssm-<request>.json`, where `<request>`
 * is the first 16 hex digits of the SHA-256 of the document and the
 * commands, under the run's own prefix (so the same request is one key per
 * run, and a case replayed twice names the same key). The command id is only
 * known after SendCommand, so a key named by it could not be looked up
 * before sending; this one can, which is what makes run() idempotent per run
 * (the command id is inside the object).
 */
export function evidenceKeyOf(context: ActionContext, instanceId: string, wanted: Pick<Params, 'document' | 'commands'>): string {
  const request = sha256(JSON.stringify([wanted.document, wanted.commands])).slice(0, 16);
  return `evidence/${context.target.account}/${instanceId}/${context.runId}/ssm-${request}.json`;
}
const sentKeyOf = (evidenceKey: string): string => evidenceKey.replace(/\.json$/, '.sent.json');

const readJson = async <T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> => {
  const object = await readObject(s3, bucket, key);
  return object === undefined ? undefined : (JSON.parse(Buffer.from(object.bytes).toString('utf8')) as T);
};

/** `undefined` when the instance is managed and Online; otherwise why it is not. */
export async function unmanagedReason(context: ActionContext, instanceId: string): Promise<string | undefined> {
  const ssm = context.clients.create(SSMClient, context.target);
  const { InstanceInformationList } = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
  const information = InstanceInformationList?.find((candidate) => candidate.InstanceId === instanceId);
  if (information === undefined) return `${instanceId} is not registered with Systems Manager`;
  if (information.PingStatus !== 'Online') return `${instanceId}'s SSM agent is ${information.PingStatus ?? 'not reporting'}`;
  return undefined;
}

/** The invocation, or `undefined` while SSM has not yet created it (InvocationDoesNotExist just after SendCommand). */
async function invocation(ssm: SSMClient, commandId: string, instanceId: string): Promise<GetCommandInvocationCommandOutput | undefined> {
  try {
    return await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
  } catch (error) {
    if (error instanceof InvocationDoesNotExist) return undefined;
    throw error;
  }
}

/**
 * Waits (SSM's CommandExecuted waiter, polling every `pollIntervalMs`) until
 * a terminal status or until `waitSeconds` have passed; the last invocation
 * read, if SSM has made it yet.
 */
export async function waitForCommand(ssm: SSMClient, commandId: string, instanceId: string, waitSeconds: number, pollIntervalMs: number): Promise<GetCommandInvocationCommandOutput | undefined> {
  const deadline = Date.now() + waitSeconds * 1000;
  // One read before the waiter: it retries every error until its deadline, so an
  // error other than "not there yet" (access denied) would surface only then.
  const first = await invocation(ssm, commandId, instanceId);
  const interval = pollIntervalMs / 1000;
  const remaining = (deadline - Date.now()) / 1000;
  if (isTerminal(first) || remaining <= interval) return first;
  try {
    const { final } = await waitUntilCommandExecuted({ client: ssm, maxWaitTime: remaining, minDelay: interval, maxDelay: interval }, { CommandId: commandId, InstanceId: instanceId });
    return final;
  } catch {
    // Ended other than Success (the waiter's failure), or still running at the deadline: the state as it is now says which.
    return (await invocation(ssm, commandId, instanceId)) ?? first;
  }
}

const evidenceOf = (wanted: Params, commandId: string, result: GetCommandInvocationCommandOutput): CommandEvidence => ({
  document: wanted.document,
  commands: wanted.commands,
  commandId,
  status: result.Status ?? 'Unknown',
  ...(result.StatusDetails === undefined ? {} : { statusDetails: result.StatusDetails }),
  ...(result.ResponseCode === undefined ? {} : { responseCode: result.ResponseCode }),
  standardOutput: result.StandardOutputContent ?? '',
  standardError: result.StandardErrorContent ?? '',
  ...(result.ExecutionStartDateTime === undefined || result.ExecutionStartDateTime === '' ? {} : { executionStartDateTime: result.ExecutionStartDateTime }),
  ...(result.ExecutionEndDateTime === undefined || result.ExecutionEndDateTime === '' ? {} : { executionEndDateTime: result.ExecutionEndDateTime }),
});

/** Options a test can set; the registered action uses the defaults. */
export interface RunCommandOptions {
  /** Time between GetCommandInvocation calls while waiting (the SDK waiter's delay). Default 2000 ms. */
  readonly pollIntervalMs?: number;
}

/**
 * The behaviour of `ssm.run-command`. The registered action uses
 * `runCommandBehaviour()`; tests build one with a short poll interval.
 */
export function runCommandBehaviour(options: RunCommandOptions = {}): ActionBehaviour<Params, never> {
  const pollIntervalMs = options.pollIntervalMs ?? 2000;

  const waitFor = (ssm: SSMClient, commandId: string, instanceId: string, waitSeconds: number): Promise<GetCommandInvocationCommandOutput | undefined> =>
    waitForCommand(ssm, commandId, instanceId, waitSeconds, pollIntervalMs);

  const outcomeOf = (context: ActionContext, instanceId: string, fields: Omit<ActionOutcome<never>, 'action' | 'resource'>): ActionOutcome<never> => ({
    action: ACTION,
    resource: instanceArnOf(context, instanceId),
    ...fields,
  });

  /** Throws SsmCommandFailedError for stored evidence whose status is not Success. */
  function assertSucceeded(context: ActionContext, instanceId: string, evidence: CommandEvidence, location: string): void {
    if (evidence.status !== 'Success') {
      throw new SsmCommandFailedError(ACTION, context, instanceId, { commandId: evidence.commandId, status: evidence.status, responseCode: evidence.responseCode, evidence: location });
    }
  }

  return {
    async plan(context, wanted): Promise<ActionPlan> {
      const bucket = bucketOf(context);
      const instanceId = instanceIdOf(ACTION, context);
      const key = evidenceKeyOf(context, instanceId, wanted);
      const s3 = evidenceS3Of(context);
      const base = { action: ACTION, resource: instanceArnOf(context, instanceId) };
      const stored = await readJson<{ data: CommandEvidence }>(s3, bucket, key);
      if (stored !== undefined) {
        return { ...base, compliant: true, summary: `command ${stored.data.commandId} of run ${context.runId} already ran (${stored.data.status}); output at s3://${bucket}/${key}`, changes: [] };
      }
      const reason = await unmanagedReason(context, instanceId);
      if (reason !== undefined) return { ...base, compliant: true, summary: `not managed by Systems Manager: would skip (${reason})`, changes: [] };
      const sent = await readJson<SentRecord>(s3, bucket, sentKeyOf(key));
      return {
        ...base,
        compliant: false,
        summary:
          sent === undefined
            ? `would run ${wanted.document} on ${instanceId} (${wanted.commands.length} command${wanted.commands.length === 1 ? '' : 's'}: ${wanted.commands.join('; ')}), wait up to ${wanted.waitSeconds}s, and store the output at s3://${bucket}/${key}`
            : `command ${sent.commandId} was already sent; would wait up to ${wanted.waitSeconds}s for it and store the output at s3://${bucket}/${key}`,
        changes: [{ field: 'evidence.ssm-run-command', from: null, to: key }],
      };
    },

    async run(context, wanted) {
      const bucket = bucketOf(context);
      const instanceId = instanceIdOf(ACTION, context);
      const key = evidenceKeyOf(context, instanceId, wanted);
      const s3 = evidenceS3Of(context);

      // Idempotent per run: output stored for the same document and commands means nothing is sent again.
      const stored = await readJson<{ data: CommandEvidence }>(s3, bucket, key);
      if (stored !== undefined) {
        assertSucceeded(context, instanceId, stored.data, `s3://${bucket}/${key}`);
        return outcomeOf(context, instanceId, {
          changed: false,
          summary: `command ${stored.data.commandId} of run ${context.runId} already ran; output at s3://${bucket}/${key}; nothing sent`,
          changes: [],
        });
      }

      const reason = await unmanagedReason(context, instanceId);
      if (reason !== undefined) return outcomeOf(context, instanceId, { changed: false, summary: `not managed by Systems Manager: skipped (${reason})`, changes: [] });

      const ssm = context.clients.create(SSMClient, context.target);
      // A command an earlier attempt of this run sent (and left running) is waited for, not sent again.
      let commandId = (await readJson<SentRecord>(s3, bucket, sentKeyOf(key)))?.commandId;
      if (commandId === undefined) {
        const { Command } = await ssm.send(
          new SendCommandCommand({
            DocumentName: wanted.document,
            InstanceIds: [instanceId],
            Parameters: { commands: wanted.commands },
            TimeoutSeconds: wanted.timeoutSeconds,
            Comment: `riposte run ${context.runId}`.slice(0, COMMENT_LIMIT),
          }),
        );
        const sent: SentRecord = { commandId: Command?.CommandId as string, sentAt: new Date().toISOString() };
        commandId = sent.commandId;
        await writeOnce(s3, bucket, sentKeyOf(key), Buffer.from(`${JSON.stringify(sent)}\n`, 'utf8'), 'application/json');
      }

      const result = await waitFor(ssm, commandId, instanceId, wanted.waitSeconds);
      if (result === undefined || !isTerminal(result)) {
        const status = result?.Status ?? 'Pending';
        return outcomeOf(context, instanceId, {
          changed: true,
          summary: `still running after ${wanted.waitSeconds}s: command ${commandId}`,
          changes: [{ field: 'command', from: null, to: { commandId, status } }],
          // The pipeline saves the run and runs this step again later: the same command is waited for, not sent again.
          inProgress: { detail: `command ${commandId} on ${instanceId} is ${status}`, checkAfterSeconds: RECHECK_SECONDS },
        });
      }

      const evidence = evidenceOf(wanted, commandId, result);
      const { sha256: digest } = await writeJsonEvidence(
        s3,
        bucket,
        key,
        evidenceDocument(context, instanceId, { name: 'ssm-run-command', source: 'ssm:SendCommand, ssm:GetCommandInvocation', data: evidence }),
      );
      // Only after the output is stored: a failed command leaves its evidence behind.
      assertSucceeded(context, instanceId, evidence, `s3://${bucket}/${key}`);
      return outcomeOf(context, instanceId, {
        changed: true,
        summary: `command ${commandId} ran ${wanted.document} on ${instanceId} (Success, response code ${evidence.responseCode ?? 'none'}); output stored at s3://${bucket}/${key} (sha256 ${digest})`,
        changes: [{ field: 'evidence.ssm-run-command', from: null, to: { key, sha256: digest } }],
      });
    },

    async verify(context, wanted) {
      const bucket = bucketOf(context);
      const instanceId = instanceIdOf(ACTION, context);
      const key = evidenceKeyOf(context, instanceId, wanted);
      const s3 = evidenceS3Of(context);
      const object = await readObject(s3, bucket, key);
      if (object === undefined) {
        const reason = await unmanagedReason(context, instanceId);
        return reason === undefined
          ? { compliant: false, summary: `no command output for run ${context.runId} at s3://${bucket}/${key}` }
          : { compliant: true, summary: `not managed by Systems Manager: skipped, nothing to verify (${reason})` };
      }
      const digest = sha256(object.bytes);
      const recorded = object.metadata[DIGEST_METADATA];
      const sidecar = await readObject(s3, bucket, `${key}.sha256`);
      const sidecarDigest = sidecar === undefined ? undefined : Buffer.from(sidecar.bytes).toString('utf8').split(/\s+/)[0];
      const failing = [
        ...(recorded === digest ? [] : [`metadata records ${recorded ?? 'no digest'}`]),
        ...(sidecarDigest === digest ? [] : [sidecar === undefined ? `${key}.sha256 is missing` : `${key}.sha256 records ${sidecarDigest ?? 'nothing'}`]),
      ];
      const status = (JSON.parse(Buffer.from(object.bytes).toString('utf8')) as { data?: CommandEvidence }).data?.status ?? 'unknown';
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `command output (${status}) at s3://${bucket}/${key} matches its SHA-256 ${digest}`
            : `command output at s3://${bucket}/${key} has SHA-256 ${digest}, but ${failing.join(' and ')}`,
      };
    },
  };
}

/**
 * Runs an SSM document (by default AWS-RunShellScript) with the given
 * commands on the instance, if it is managed by Systems Manager and Online,
 * waits up to `waitSeconds` for a terminal status, and stores the output
 * (stdout, stderr, status, response code, command id) as a JSON evidence
 * object with its SHA-256 (`x-amz-meta-sha256` and a `.sha256` object
 * beside it) at `evidence/<account>/<instanceId>/<runId>/ssm-<request>.json`
 * in the evidence bucket; `<request>` is a hash of document, commands and
 * run id (see evidenceKeyOf), so a second run of the step sends nothing.
 *
 * - Unmanaged (or not Online) instance, including an instance id Systems
 *   Manager does not know: skipped, with the reason; never fails the playbook.
 * - Failed, Cancelled or TimedOut: the output is stored, then
 *   SsmCommandFailedError is thrown.
 * - Still running after `waitSeconds`: reported as still running, with the
 *   command id; the command id is kept (`ssm-<request>.sent.json`) so that
 *   the next run of the step waits for it instead of sending it again.
 *
 * ```yaml
 * - ssm.run-command: { commands: ["ps auxww", "ss -tanp"] }
 * ```
 */
export const runCommand = defineAction({
  name: ACTION,
  description: 'Run an SSM Run Command document on the instance (OS-level evidence collection)',
  params,
  target: 'instance',
  permissions: {
    member: ['ssm:DescribeInstanceInformation', 'ssm:SendCommand', 'ssm:GetCommandInvocation'],
    // s3:ListBucket makes GetObject of a missing key answer 404 (NoSuchKey), not 403.
    hosting: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
  },
  changesResources: false,
  behaviour: runCommandBehaviour(),
});
