import { AssociateIamInstanceProfileCommand, DescribeSecurityGroupsCommand, DisassociateIamInstanceProfileCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand, SSMClient, type GetCommandInvocationCommandOutput } from '@aws-sdk/client-ssm';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { CollectionToolMissingError, InstanceNotManagedError, InstanceProfileInUseError } from './collection-errors.js';
import { currentAssociation } from './ec2-detach-instance-profile.js';
import { describeInstance, instanceIdOf, onInstance } from './ec2-instance.js';
import { SsmCommandFailedError } from './errors.js';
import { evidenceBucketOf, evidenceDocument, evidenceS3Of, readObject, sha256, writeJsonEvidence, writeOnce } from './evidence-store.js';
import { defineAction } from './registry.js';
import type { ActionBehaviour, ActionContext, ActionOutcome, ActionPlan, NeighbourStep, StepOrder } from './runtime.js';
import { COMMENT_LIMIT, evidenceKeyOf, isTerminal, RECHECK_SECONDS, unmanagedReason, waitForCommand } from './ssm-run-command.js';

const ACTION = 'ssm.collect-evidence';
/** Run Command's shell document (Linux): the collection is a shell script. */
const DOCUMENT = 'AWS-RunShellScript';
/** Where the SSM agent writes the shell plugin's streams under `<prefix>/<command id>/<instance id>/` (see {@link outputKeysOf}). */
const SHELL_PLUGIN_PATH = 'awsrunShellScript/0.awsrunShellScript';

/** The forensic instance profile the member-account template creates (a parameter of the step). */
export const DEFAULT_FORENSIC_PROFILE = 'RiposteForensicCollection';
/** Where the collection expects AVML (github.com/microsoft/avml, a static Linux binary) unless the step names another path. */
export const DEFAULT_AVML_PATH = '/usr/local/bin/avml';
/** Where the collection expects the AWS CLI that uploads the memory image (Amazon Linux's) unless the step names another path. */
export const DEFAULT_AWS_CLI_PATH = '/usr/bin/aws';
/** The line the script writes to stderr, before anything else, when a tool it needs is absent: `<marker> <tool> <path>`. */
export const TOOL_MISSING_MARKER = 'riposte-collect: tool missing:';
/** The script's exit status then (sysexits' EX_UNAVAILABLE), so the command ends Failed, never Success. */
export const TOOL_MISSING_EXIT = 69;
/** The script's exit status when the memory capture or its upload fails once started. */
export const MEMORY_CAPTURE_FAILED_EXIT = 70;

// An absolute path made of characters that need no quoting; a profile name as IAM allows.
const absolutePath = z.string().check(z.regex(/^\/[A-Za-z0-9._/+-]+$/, 'an absolute path of letters, digits and . _ / + -'));

const described = (description: string) => z.meta({ description });

const params = z.strictObject({
  instanceProfile: z
    ._default(z.string().check(z.regex(/^[\w+=,.@-]{1,128}$/, 'an instance profile name')), DEFAULT_FORENSIC_PROFILE)
    .check(described('Name of the forensic instance profile in the member account (the member template creates it), attached for the collection only')),
  commands: z
    ._default(z.array(z.string().check(z.minLength(1))), ['uname -a', 'uptime', 'ps auxww', 'ss -tanp', 'ip addr', 'last -Fw', 'lsmod'])
    .check(described('Shell commands whose output is collected, each under a `### <command>` header, after the memory capture; a failing one does not stop the next')),
  memoryCapture: z
    .optional(
      z.strictObject({
        tool: z._default(z.literal('avml'), 'avml').check(described('The memory capture tool the instance must have (AVML, Linux)')),
        path: z._default(absolutePath, DEFAULT_AVML_PATH).check(described('Where the tool is on the instance')),
        awsCliPath: z._default(absolutePath, DEFAULT_AWS_CLI_PATH).check(described('Where the AWS CLI that uploads the memory image is on the instance')),
      }),
    )
    .check(described('Capture memory first (it is the most volatile); either tool absent fails the step, naming it and its path. Absent: no memory capture')),
  onUnmanaged: z._default(z.enum(['skip', 'fail']), 'skip').check(described('An instance Systems Manager cannot reach: `skip` (the step says why and the run goes on) or `fail`')),
  timeoutSeconds: z._default(z.number().check(z.int(), z.minimum(30), z.maximum(172_800)), 3600).check(described('`SendCommand`’s `TimeoutSeconds`')),
  waitSeconds: z
    ._default(z.number().check(z.int(), z.minimum(0), z.maximum(840)), 60)
    .check(described('How long a run waits for the command to end before reporting it still running (the forensic profile stays attached until it ends)')),
});
export type CollectEvidenceParams = z.output<typeof params>;

/** The profile a collection left attached while its command still ran: rollback removes it. */
export interface CollectEvidenceUndo {
  readonly instanceId: string;
  readonly instanceProfileArn: string;
}

/** What the evidence record (`ssm-<request>.json`) holds under `data`. */
export interface CollectionRecord {
  readonly commandId: string;
  readonly status: string;
  readonly responseCode?: number;
  readonly instanceProfileArn: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  /**
   * The streams the agent wrote (a stream with no text is not written), with their SHA-256. A stream
   * the agent did not upload though GetCommandInvocation shows text (`inline: true`) is the text
   * GetCommandInvocation returns, written by Riposte: its first 24,000 (stdout) or 8,000 (stderr)
   * characters only.
   */
  readonly outputs: readonly { readonly stream: 'stdout' | 'stderr'; readonly key: string; readonly bytes: number; readonly sha256: string; readonly inline?: true }[];
  /** Where the memory image was uploaded to, when one was asked for and the command succeeded. */
  readonly memoryImage?: string;
}

interface SentRecord {
  readonly commandId: string;
  readonly sentAt: string;
}

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** Where a run keeps one collection: the record, and the prefix Run Command writes the output under. */
export function collectionKeysOf(context: ActionContext, instanceId: string, wanted: CollectEvidenceParams): { record: string; sent: string; outputPrefix: string; memoryImage: string } {
  // The run's evidence key for this request (ssm.run-command's naming), hashed over what is collected.
  const record = evidenceKeyOf(context, instanceId, { document: ACTION, commands: [JSON.stringify([wanted.instanceProfile, wanted.commands, wanted.memoryCapture ?? null])] });
  const outputPrefix = record.replace(/\.json$/, '');
  return { record, sent: `${outputPrefix}.sent.json`, outputPrefix, memoryImage: `${outputPrefix}/memory/${instanceId}.lime` };
}

/**
 * What every phase starts from: the instance, its Region's evidence bucket,
 * this collection's keys, and its record if a run already stored one.
 */
async function collectionOf(context: ActionContext, wanted: CollectEvidenceParams) {
  const bucket = evidenceBucketOf(ACTION, context);
  const instanceId = instanceIdOf(ACTION, context);
  const keys = collectionKeysOf(context, instanceId, wanted);
  const s3 = evidenceS3Of(context);
  const stored = await readJson<{ data: CollectionRecord }>(s3, bucket, keys.record);
  return { bucket, instanceId, keys, s3, stored };
}

/** The keys the SSM agent writes the shell plugin's stdout and stderr to, for OutputS3KeyPrefix `prefix`. */
export const outputKeysOf = (prefix: string, commandId: string, instanceId: string): { stdout: string; stderr: string } => ({
  stdout: `${prefix}/${commandId}/${instanceId}/${SHELL_PLUGIN_PATH}/stdout`,
  stderr: `${prefix}/${commandId}/${instanceId}/${SHELL_PLUGIN_PATH}/stderr`,
});

/**
 * The shell script sent as AWS-RunShellScript's `commands`: the tools
 * checked first (a missing one ends the script with {@link TOOL_MISSING_EXIT}
 * and a {@link TOOL_MISSING_MARKER} line on stderr), memory captured and
 * uploaded next, then each command under a `### <command>` header.
 */
export function collectionScript(wanted: CollectEvidenceParams, upload: { bucket: string; memoryImage: string; region: string }): string[] {
  const memory = wanted.memoryCapture;
  const check = (tool: string, path: string): string => `[ -x ${quote(path)} ] || { echo ${quote(`${TOOL_MISSING_MARKER} ${tool} ${path}`)} >&2; exit ${TOOL_MISSING_EXIT}; }`;
  const failed = (what: string): string => `{ echo ${quote(`riposte-collect: ${what} failed`)} >&2; exit ${MEMORY_CAPTURE_FAILED_EXIT}; }`;
  return [
    ...(memory === undefined
      ? []
      : [
          check(memory.tool, memory.path),
          check('aws-cli', memory.awsCliPath),
          'image="$(mktemp -d /var/tmp/riposte-memory.XXXXXX)/memory.lime"',
          `${quote(memory.path)} --compress "$image" || ${failed(`memory capture with ${memory.tool}`)}`,
          `${quote(memory.awsCliPath)} s3 cp "$image" ${quote(`s3://${upload.bucket}/${upload.memoryImage}`)} --region ${quote(upload.region)} --checksum-algorithm SHA256 --only-show-errors || ${failed('memory image upload')}`,
          'rm -rf "$(dirname "$image")"',
        ]),
    ...wanted.commands.flatMap((command) => [`echo ${quote(`### ${command}`)}`, command]),
  ];
}

/** The tool the command's stderr says is missing, if it says so. */
export function missingToolOf(stderr: string): { tool: string; path: string } | undefined {
  const line = stderr.split('\n').find((candidate) => candidate.startsWith(TOOL_MISSING_MARKER));
  const [tool, ...path] = line?.slice(TOOL_MISSING_MARKER.length).trim().split(' ') ?? [];
  return tool === undefined || tool === '' ? undefined : { tool, path: path.join(' ') };
}

/** The action that moves the instance into a quarantine group. */
const ISOLATE = 'ec2.isolate';
/** The action that removes the instance's own profile, which the collection needs gone. */
const DETACH_PROFILE = 'ec2.detach-instance-profile';

/**
 * When the collection runs against the playbook's isolation, and so whether
 * Systems Manager can still reach the agent: the quarantine group denies all
 * egress unless `ec2.isolate` is asked to open it to the VPC's Systems
 * Manager endpoints (`ssmEndpoints: true`).
 */
export type CollectionTiming =
  /** The playbook does not isolate the instance. */
  | { readonly kind: 'unisolated' }
  /** Every isolation starts after this step has ended. */
  | { readonly kind: 'before-isolation' }
  /** Isolated first (or beside), with egress to the Systems Manager endpoints. */
  | { readonly kind: 'through-endpoints' }
  /** Isolated first (or beside) with no egress: nothing can be collected. */
  | { readonly kind: 'none'; readonly reason: string };

/** The collection's timing, from where the step stands among the playbook's steps (no order known: treated as unisolated). */
export function collectionTimingOf(order: StepOrder | undefined): CollectionTiming {
  const isolations = (steps: readonly NeighbourStep[] | undefined) => (steps ?? []).filter((step) => step.action === ISOLATE);
  const first = [...isolations(order?.before).map((step) => ({ step, where: 'before' })), ...isolations(order?.beside).map((step) => ({ step, where: 'beside' }))];
  if (first.length === 0) return isolations(order?.after).length > 0 ? { kind: 'before-isolation' } : { kind: 'unisolated' };
  const closed = first.find(({ step }) => step.params.ssmEndpoints !== true);
  if (closed === undefined) return { kind: 'through-endpoints' };
  return {
    kind: 'none',
    reason: `${ISOLATE} runs ${closed.where} this step and its quarantine group allows no egress, so Systems Manager cannot reach the instance (order ${ACTION} before ${ISOLATE}, or give ${ISOLATE} ssmEndpoints: true)`,
  };
}

/** What the plan says of the timing, before the rest of its summary. */
function timingNote(timing: CollectionTiming): string {
  switch (timing.kind) {
    case 'before-isolation':
      return 'before isolation: ';
    case 'through-endpoints':
      return `after isolation, through the VPC's Systems Manager endpoints (${ISOLATE} ssmEndpoints; without them nothing is collected): `;
    default:
      return '';
  }
}

/**
 * Why an isolated instance cannot reach Systems Manager, if it cannot: every
 * one of its interfaces is only in groups with no outbound rule (the
 * quarantine group of a VPC without the endpoints).
 */
async function egressReason(context: ActionContext, instanceId: string): Promise<string | undefined> {
  const instance = await describeInstance(ACTION, context, instanceId);
  const byInterface = (instance.NetworkInterfaces ?? []).map((eni) => (eni.Groups ?? []).flatMap((group) => (group.GroupId === undefined ? [] : [group.GroupId])));
  const ids = [...new Set(byInterface.flat())].sort();
  if (byInterface.length === 0 || ids.length === 0) return undefined;
  const ec2 = context.clients.create(EC2Client, context.target);
  const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids }));
  const open = new Set((SecurityGroups ?? []).flatMap((group) => ((group.IpPermissionsEgress ?? []).length > 0 && group.GroupId !== undefined ? [group.GroupId] : [])));
  return byInterface.some((groups) => groups.some((group) => open.has(group)))
    ? undefined
    : `${instanceId} is isolated in ${ids.join(', ')}, which allow${ids.length === 1 ? 's' : ''} no egress (the VPC lacks the Systems Manager endpoints ${ISOLATE} would open it to)`;
}

/**
 * Why Systems Manager cannot reach the instance now, if it cannot: the
 * playbook's order, the agent's state, or (after an isolation through the
 * endpoints) a quarantine that had no endpoints to open.
 */
async function unreachableReason(context: ActionContext, instanceId: string, timing: CollectionTiming, phase: 'plan' | 'run'): Promise<string | undefined> {
  if (timing.kind === 'none') return timing.reason;
  const reason = await unmanagedReason(context, instanceId);
  if (reason !== undefined || phase === 'plan' || timing.kind !== 'through-endpoints') return reason;
  return egressReason(context, instanceId);
}

const forensicProfileArnOf = (context: ActionContext, name: string): string => `arn:${context.target.partition}:iam::${context.target.account}:instance-profile/${name}`;

const readJson = async <T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> => {
  const object = await readObject(s3, bucket, key);
  return object === undefined ? undefined : (JSON.parse(Buffer.from(object.bytes).toString('utf8')) as T);
};

/** Options a test can set; the registered action uses the defaults. */
export interface CollectEvidenceOptions {
  /** Time between GetCommandInvocation calls while waiting. Default 2000 ms. */
  readonly pollIntervalMs?: number;
}

/** The behaviour of `ssm.collect-evidence`; tests build one with a short poll interval. */
export function collectEvidenceBehaviour(options: CollectEvidenceOptions = {}): ActionBehaviour<CollectEvidenceParams, CollectEvidenceUndo> {
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const outcomeOf = <U>(context: ActionContext, instanceId: string, fields: Omit<ActionOutcome<U>, 'action' | 'resource'>): ActionOutcome<U> => ({
    action: ACTION,
    resource: instanceArnOf(context, instanceId),
    ...fields,
  });

  /** Removes the forensic profile if it is the one associated; whether it was. */
  async function removeForensicProfile(context: ActionContext, instanceId: string, forensicArn: string): Promise<boolean> {
    const association = await currentAssociation(context, instanceId);
    if (association?.instanceProfileArn !== forensicArn) return false;
    const ec2 = context.clients.create(EC2Client, context.target);
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association.associationId }));
    return true;
  }

  /** Reads the streams the agent wrote, stores the record, and throws for a collection that did not succeed. */
  async function record(
    context: ActionContext,
    s3: S3Client,
    where: { bucket: string; keys: ReturnType<typeof collectionKeysOf>; instanceId: string; forensicArn: string },
    commandId: string,
    result: GetCommandInvocationCommandOutput,
    wanted: CollectEvidenceParams,
  ): Promise<ActionOutcome<CollectEvidenceUndo>> {
    const { bucket, keys, instanceId } = where;
    const streams = outputKeysOf(keys.outputPrefix, commandId, instanceId);
    const read = await Promise.all((['stdout', 'stderr'] as const).map(async (stream) => ({ stream, key: streams[stream], object: await readObject(s3, bucket, streams[stream]) })));
    // A stream the agent did not upload (its upload refused: a bucket policy, Object Lock's checksum rule) while
    // GetCommandInvocation shows text: that text is kept, cut as Run Command cuts it, rather than nothing.
    const inline = await Promise.all(
      read.flatMap(({ stream, object }) => {
        const text = stream === 'stdout' ? result.StandardOutputContent : result.StandardErrorContent;
        if (object !== undefined || text === undefined || text === '') return [];
        const key = `${keys.outputPrefix}/${commandId}/${instanceId}/inline-${stream}`;
        const bytes = Buffer.from(text, 'utf8');
        return [writeOnce(s3, bucket, key, bytes, 'text/plain; charset=utf-8').then((written) => ({ stream, key, bytes: bytes.byteLength, sha256: written.sha256, inline: true as const }))];
      }),
    );
    const outputs = [...read.flatMap(({ stream, key, object }) => (object === undefined ? [] : [{ stream, key, bytes: object.bytes.byteLength, sha256: sha256(object.bytes) }])), ...inline];
    const stderrObject = read.find(({ stream }) => stream === 'stderr')?.object;
    const stderr = stderrObject === undefined ? (result.StandardErrorContent ?? '') : Buffer.from(stderrObject.bytes).toString('utf8');
    const status = result.Status ?? 'Unknown';
    const data: CollectionRecord = {
      commandId,
      status,
      ...(result.ResponseCode === undefined ? {} : { responseCode: result.ResponseCode }),
      instanceProfileArn: where.forensicArn,
      outputBucket: bucket,
      outputPrefix: keys.outputPrefix,
      outputs,
      ...(wanted.memoryCapture !== undefined && status === 'Success' ? { memoryImage: keys.memoryImage } : {}),
    };
    const { sha256: digest } = await writeJsonEvidence(
      s3,
      bucket,
      keys.record,
      evidenceDocument(context, instanceId, { name: 'ssm-collect-evidence', source: 'ssm:SendCommand (S3 output), ssm:GetCommandInvocation', data }),
    );
    const location = `s3://${bucket}/${keys.outputPrefix}/`;
    const missing = missingToolOf(stderr);
    if (missing !== undefined && status !== 'Success') throw new CollectionToolMissingError(ACTION, context, instanceId, { ...missing, commandId, status, evidence: location });
    if (status !== 'Success') throw new SsmCommandFailedError(ACTION, context, instanceId, { commandId, status, responseCode: result.ResponseCode, evidence: location });
    return outcomeOf(context, instanceId, {
      changed: true,
      summary: `collected from inside ${instanceId} with command ${commandId} under the forensic profile, since removed: ${outputs.length} output object${outputs.length === 1 ? '' : 's'} at ${location}${data.memoryImage === undefined ? '' : `, memory image at s3://${bucket}/${data.memoryImage}`}${inline.length === 0 ? '' : `; the agent did not upload ${inline.map((output) => output.stream).join(' or ')}: kept the start GetCommandInvocation returns (24,000 characters of stdout, 8,000 of stderr), not the whole stream`} (record sha256 ${digest})`,
      changes: [{ field: 'evidence.ssm-collect-evidence', from: null, to: { key: keys.record, sha256: digest, outputs: outputs.map(({ key, sha256: hash }) => ({ key, sha256: hash })) } }],
    });
  }

  return {
    async plan(context, wanted): Promise<ActionPlan> {
      const timing = collectionTimingOf(context.order);
      // Every read at once (the plans are on the way to containment): the record, whether Systems Manager can reach the instance, and its profile.
      const [{ bucket, instanceId, keys, stored }, reason, association] = await Promise.all([
        collectionOf(context, wanted),
        unreachableReason(context, instanceIdOf(ACTION, context), timing, 'plan'),
        currentAssociation(context, instanceIdOf(ACTION, context)),
      ]);
      const base = { action: ACTION, resource: instanceArnOf(context, instanceId) };
      if (stored !== undefined)
        return {
          ...base,
          compliant: true,
          summary: `collection ${stored.data.commandId} of run ${context.runId} already ran (${stored.data.status}); record at s3://${bucket}/${keys.record}`,
          changes: [],
        };
      if (reason !== undefined) {
        return {
          ...base,
          compliant: wanted.onUnmanaged === 'skip',
          summary: `${timing.kind === 'none' ? 'no collection' : 'not managed by Systems Manager'}: would ${wanted.onUnmanaged === 'skip' ? 'skip the collection' : 'fail the step'} (${reason})`,
          changes: [],
        };
      }
      const forensicArn = forensicProfileArnOf(context, wanted.instanceProfile);
      const memory = wanted.memoryCapture === undefined ? '' : `capture memory with ${wanted.memoryCapture.tool} at ${wanted.memoryCapture.path}, then `;
      // A profile an earlier step of the playbook removes is gone by the time this step runs.
      const detachedFirst = (context.order?.before ?? []).some((step) => step.action === DETACH_PROFILE);
      return {
        ...base,
        compliant: false,
        summary:
          association !== null && association.instanceProfileArn !== forensicArn && !detachedFirst
            ? `would refuse: ${instanceId} has instance profile ${association.instanceProfileArn} (detach it first)`
            : `${timingNote(timing)}would attach ${forensicArn}${association !== null && association.instanceProfileArn !== forensicArn ? ` once ${DETACH_PROFILE} has removed ${association.instanceProfileArn}` : ''}, ${memory}run ${wanted.commands.length} command${wanted.commands.length === 1 ? '' : 's'} with output to s3://${bucket}/${keys.outputPrefix}/, and remove the profile`,
        changes: [{ field: 'evidence.ssm-collect-evidence', from: null, to: keys.record }],
      };
    },

    async run(context, wanted) {
      const { bucket, instanceId, keys, s3, stored } = await collectionOf(context, wanted);
      const forensicArn = forensicProfileArnOf(context, wanted.instanceProfile);
      if (stored !== undefined) {
        // A killed attempt may have stored the record and not removed the profile yet.
        const removed = await removeForensicProfile(context, instanceId, forensicArn);
        return outcomeOf(context, instanceId, {
          changed: removed,
          summary: `collection ${stored.data.commandId} of run ${context.runId} already ran (${stored.data.status}); record at s3://${bucket}/${keys.record}; nothing sent${removed ? `; removed ${forensicArn} left attached` : ''}`,
          changes: removed ? [{ field: 'IamInstanceProfile', from: forensicArn, to: null }] : [],
        });
      }

      // A command an earlier attempt of this run sent (and left running) is waited for, whatever the agent's state now.
      let commandId = (await readJson<SentRecord>(s3, bucket, keys.sent))?.commandId;
      if (commandId === undefined) {
        const reason = await unreachableReason(context, instanceId, collectionTimingOf(context.order), 'run');
        if (reason !== undefined) {
          if (wanted.onUnmanaged === 'fail') throw new InstanceNotManagedError(ACTION, context, instanceId, reason);
          return outcomeOf(context, instanceId, { changed: false, summary: `Systems Manager cannot reach the instance: collection skipped (${reason})`, changes: [] });
        }
      }

      const ec2 = context.clients.create(EC2Client, context.target);
      const association = await currentAssociation(context, instanceId);
      if (association !== null && association.instanceProfileArn !== forensicArn) throw new InstanceProfileInUseError(ACTION, context, instanceId, association.instanceProfileArn, forensicArn);
      if (association === null)
        await onInstance(ACTION, context, instanceId, () => ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: forensicArn } })));

      let stillRunning = false;
      try {
        const ssm = context.clients.create(SSMClient, context.target);
        if (commandId === undefined) {
          const { Command } = await ssm.send(
            new SendCommandCommand({
              DocumentName: DOCUMENT,
              InstanceIds: [instanceId],
              Parameters: { commands: collectionScript(wanted, { bucket, memoryImage: keys.memoryImage, region: context.target.region }) },
              TimeoutSeconds: wanted.timeoutSeconds,
              OutputS3BucketName: bucket,
              OutputS3KeyPrefix: keys.outputPrefix,
              Comment: `riposte run ${context.runId} forensic collection`.slice(0, COMMENT_LIMIT),
            }),
          );
          const sent: SentRecord = { commandId: Command?.CommandId as string, sentAt: new Date().toISOString() };
          commandId = sent.commandId;
          await writeOnce(s3, bucket, keys.sent, Buffer.from(`${JSON.stringify(sent)}\n`, 'utf8'), 'application/json');
        }
        const result = await waitForCommand(ssm, commandId, instanceId, wanted.waitSeconds, pollIntervalMs);
        if (result === undefined || !isTerminal(result)) {
          stillRunning = true;
          const status = result?.Status ?? 'Pending';
          return outcomeOf(context, instanceId, {
            changed: true,
            summary: `still running after ${wanted.waitSeconds}s: command ${commandId}; ${forensicArn} stays attached until it ends`,
            changes: [{ field: 'IamInstanceProfile', from: null, to: forensicArn }],
            // Rollback removes the profile if the run is abandoned while the command runs.
            undo: { instanceId, instanceProfileArn: forensicArn },
            inProgress: { detail: `command ${commandId} on ${instanceId} is ${status}`, checkAfterSeconds: RECHECK_SECONDS },
          });
        }
        return await record(context, s3, { bucket, keys, instanceId, forensicArn }, commandId, result, wanted);
      } finally {
        // The agent uploads the output with the profile's credentials, so it stays while the command runs; otherwise it goes, whatever happened.
        if (!stillRunning) await removeForensicProfile(context, instanceId, forensicArn);
      }
    },

    async verify(context, wanted) {
      const { bucket, instanceId, keys, s3, stored } = await collectionOf(context, wanted);
      const forensicArn = forensicProfileArnOf(context, wanted.instanceProfile);
      if (stored === undefined) {
        const reason = await unreachableReason(context, instanceId, collectionTimingOf(context.order), 'run');
        return reason === undefined
          ? { compliant: false, summary: `no collection record for run ${context.runId} at s3://${bucket}/${keys.record}` }
          : { compliant: wanted.onUnmanaged === 'skip', summary: `Systems Manager cannot reach the instance: nothing collected (${reason})` };
      }
      const association = await currentAssociation(context, instanceId);
      const failing: string[] = association?.instanceProfileArn === forensicArn ? [`${forensicArn} is still attached`] : [];
      for (const output of stored.data.outputs) {
        const object = await readObject(s3, bucket, output.key);
        const digest = object === undefined ? undefined : sha256(object.bytes);
        if (digest !== output.sha256) failing.push(`${output.key} ${object === undefined ? 'is missing' : `has SHA-256 ${digest}, recorded ${output.sha256}`}`);
      }
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `collection ${stored.data.commandId} (${stored.data.status}): ${stored.data.outputs.length} output object(s) match their SHA-256; forensic profile removed`
            : `collection ${stored.data.commandId}: ${failing.join('; ')}`,
      };
    },

    async rollback(context, undo) {
      const removed = await removeForensicProfile(context, undo.instanceId, undo.instanceProfileArn);
      return outcomeOf<never>(context, undo.instanceId, {
        changed: removed,
        summary: removed
          ? `removed ${undo.instanceProfileArn} from ${undo.instanceId}; the evidence collected stays`
          : `${undo.instanceProfileArn} is no longer attached to ${undo.instanceId}; nothing to undo, the evidence collected stays`,
        changes: removed ? [{ field: 'IamInstanceProfile', from: undo.instanceProfileArn, to: null }] : [],
      });
    },
  };
}

/**
 * Collects from inside the instance with Systems Manager Run Command, after
 * containment, under a minimal forensic instance profile attached for the
 * collection only.
 *
 * - **Managed only.** DescribeInstanceInformation must show the instance
 *   Online. Otherwise the collection is skipped with the reason (the plan
 *   says so too), or the step fails with `onUnmanaged: fail`.
 * - **Against isolation.** `ec2.isolate`'s quarantine group denies all
 *   egress, so the playbook's order decides, and the plan says which:
 *   - this step before `ec2.isolate`: collection before isolation;
 *   - after it (or beside it) with `ssmEndpoints: true`: collection through
 *     the VPC's Systems Manager endpoints; a VPC without them leaves the
 *     quarantine with no egress, which the run reads back (the instance's
 *     groups) and skips the collection, saying why;
 *   - after it without: no collection (skipped, or failed with
 *     `onUnmanaged: fail`), never a command that cannot arrive.
 * - **The forensic profile** (`instanceProfile`, default
 *   `RiposteForensicCollection`, created by the member template: a role
 *   trusted by ec2.amazonaws.com allowed only the SSM agent's messaging and
 *   s3:PutObject under the evidence prefix) is associated before the command
 *   and removed after it, also when the command fails or a call throws. An
 *   instance that still has another profile is refused
 *   (InstanceProfileInUseError): replacing the suspect profile and
 *   restoring it afterwards would hand the suspect role back, undoing a
 *   detach that runs beside this step; order this step after
 *   `ec2.detach-instance-profile`.
 * - **Output to S3.** AWS-RunShellScript runs with OutputS3BucketName (the
 *   evidence bucket of the instance's Region) and OutputS3KeyPrefix
 *   `evidence/<account>/<instanceId>/<runId>/ssm-<request>` (ssm.run-command's
 *   naming): the agent writes the complete stdout and stderr to
 *   `<prefix>/<command id>/<instance id>/awsrunShellScript/0.awsrunShellScript/`,
 *   not the 24,000 characters GetCommandInvocation returns. A record with
 *   each object's SHA-256 is stored beside them (`ssm-<request>.json`). A
 *   stream the agent did not upload although GetCommandInvocation shows
 *   text (its upload refused) is kept as that text, `inline-<stream>`,
 *   marked `inline` in the record and said in the summary: only its start.
 * - **Memory capture** (`memoryCapture`): AVML at `path` (default
 *   `/usr/local/bin/avml`) captures memory first, and the AWS CLI at
 *   `awsCliPath` uploads the image to `<prefix>/memory/<instanceId>.lime`.
 *   Either tool absent: the script writes `riposte-collect: tool missing:
 *   <tool> <path>` and exits 69, and the step throws
 *   CollectionToolMissingError naming both; it never reports success.
 * - Still running after `waitSeconds`: reported in progress; the profile
 *   stays attached (the agent uploads with it) until a later run of the
 *   step sees the command end.
 * - **Rollback**: nothing to undo beyond the profile, which is already
 *   removed unless the run was abandoned while the command ran. The
 *   evidence stays.
 *
 * ```yaml
 * - ssm.collect-evidence: { memoryCapture: { path: /usr/local/bin/avml } }
 * ```
 */
export const collectEvidence = defineAction({
  name: ACTION,
  description: 'Collect from inside the instance with Run Command (S3 output, optional memory capture) under a forensic instance profile attached for the collection only',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ssm:DescribeInstanceInformation',
      'ssm:SendCommand',
      'ssm:GetCommandInvocation',
      'ec2:DescribeIamInstanceProfileAssociations',
      // Whether an isolated instance's groups still let it reach Systems Manager.
      'ec2:DescribeInstances',
      'ec2:DescribeSecurityGroups',
      'ec2:AssociateIamInstanceProfile',
      'ec2:DisassociateIamInstanceProfile',
      'iam:PassRole',
    ],
    // s3:ListBucket makes GetObject of a missing key answer 404 (NoSuchKey), not 403.
    hosting: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
  },
  changesResources: true,
  behaviour: collectEvidenceBehaviour(),
});
