import { ServiceException } from '@smithy/core/client';
import { TypeRegistry } from '@smithy/core/schema';
import { SMITHY_CONTEXT_KEY, type BuildHandlerArguments, type BuildMiddleware, type HandlerExecutionContext, type MetadataBearer, type Pluggable, type StaticErrorSchema } from '@smithy/types';
import * as z from '../zod.js';

import { isReadOperation } from '../aws/index.js';
import { RiposteError } from '../errors.js';

/*
 * A member account as a test case has it: the answers AWS gives to the calls
 * a run makes, written down beside the case (`<case>.aws.json`), in the way
 * Cloud Custodian's tests replay recorded responses. The harness runs the
 * whole pipeline with every SDK client answered from here instead of the
 * network, and records each call with its parameters: that list is the plan
 * as the AWS calls it makes, which the golden file holds.
 *
 * The answers are the account's timeline, in order: the state as it is,
 * then each change the run makes followed by the state as it became. A
 * change (any operation but a Describe…, Get…, List…) takes the first answer
 * listed for it that no earlier call took; a read is answered with the
 * latest answer to it that follows a change already made (or comes before
 * every change), so steps that run side by side may change things in any
 * order and each read still sees the change listed before it. So
 * `[Get: before, Update, Get: after]` answers the plan's and the run's reads
 * with `before` and the verification's with `after`, as IAM would. An answer may name the `account` it is for, and
 * the `input` it answers (the parameters a call must include: a
 * DescribeSecurityGroups by group ids is not one by group name).
 */

/** `service:Operation` as IAM names it (`ec2:DescribeInstances`). */
const CALL = /^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/;

const answerSchema = z
  .strictObject({
    call: z.string().check(z.regex(CALL, 'a call is service:Operation, as IAM names it (ec2:DescribeInstances)')),
    /** Only calls into this account take this answer (any account when absent). */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
    /** Only calls whose parameters include these take this answer (any parameters when absent). */
    input: z.optional(z.record(z.string(), z.unknown())),
    output: z.optional(z.record(z.string(), z.unknown())),
    error: z.optional(z.strictObject({ name: z.string().check(z.minLength(1)), message: z._default(z.string(), '') })),
  })
  .check(z.refine((answer) => (answer.output === undefined) !== (answer.error === undefined), 'an answer has an output or an error, not both'));

export const replayWorldSchema = z.strictObject({
  /** What the case's accounts are (read by people; the harness ignores it). */
  description: z.optional(z.string()),
  answers: z.array(answerSchema),
});
export type ReplayWorld = z.output<typeof replayWorldSchema>;
type Answer = ReplayWorld['answers'][number];

/** One call the run made, as the golden file holds it. */
export interface ReplayedCall {
  readonly call: string;
  /** The account whose credentials signed it: a member account, or `riposte` for Riposte's own. */
  readonly account: string;
  readonly region: string;
  readonly params: unknown;
  /** The error the call was answered with, by name. */
  readonly error?: string;
}

/** The credentials Riposte's own clients sign with in a replay. */
export const REPLAY_HOSTING_CREDENTIALS = { accessKeyId: 'AKIARIPOSTEREPLAY000', secretAccessKey: 'replay' } as const;
const HOSTING = 'riposte';

/**
 * IAM's service prefix for an SDK client's name, where the two differ
 * (`EventBridgeClient` signs as `events`, both load balancer clients as
 * `elasticloadbalancing`); otherwise the name lower-cased.
 */
const SERVICE_PREFIX: Readonly<Record<string, string>> = { EventBridge: 'events', ElasticLoadBalancingV2: 'elasticloadbalancing' };

function callOf(context: HandlerExecutionContext): string {
  const client = (context.clientName ?? 'Unknown').replace(/Client$/, '');
  const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
  return `${SERVICE_PREFIX[client] ?? client.toLowerCase()}:${operation}`;
}

/** `{ "$time": "…" }` in an answer is a timestamp, as the SDK gives one (a Date); everything else is as written. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === '$time' && typeof record.$time === 'string') return new Date(record.$time);
    return Object.fromEntries(keys.map((key) => [key, revive(record[key])]));
  }
  return value;
}

/** Whether `actual` holds everything `expected` states: objects by their stated keys, lists item by item, values as equal. */
export function includes(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((item, index) => includes(actual[index], item));
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected as Record<string, unknown>).every(([key, value]) => includes((actual as Record<string, unknown>)[key], value));
  }
  return Object.is(actual, expected);
}

/**
 * A parameter as the golden file holds it: what varies from run to run (a
 * run id, a time, the digest of evidence that holds a time) as a placeholder, a payload (an
 * evidence object) as its JSON when it is JSON, else its size.
 */
export function recordedParam(value: unknown): unknown {
  if (value instanceof Date) return '<time>';
  if (value instanceof Uint8Array || (typeof Buffer !== 'undefined' && Buffer.isBuffer(value))) return payload(Buffer.from(value as Uint8Array).toString('utf8'), (value as Uint8Array).byteLength);
  if (typeof value === 'string') return placeholders(value);
  if (Array.isArray(value)) return value.map(recordedParam);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, field]) => field !== undefined)
        .map(([key, field]) => [
          key,
          key === 'Body' && typeof field === 'string' ? payload(field, Buffer.byteLength(field)) : key === 'ChecksumSHA256' && typeof field === 'string' ? '<sha256>' : recordedParam(field),
        ]),
    );
  }
  return value;
}

function payload(text: string, bytes: number): unknown {
  try {
    return { json: recordedParam(JSON.parse(text) as unknown) };
  } catch {
    return { bytes };
  }
}

const RUN_ID = /\br-\d{8}T\d{6}Z-[0-9a-f]{12}\b/g;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;
const COMPACT_TIME = /\b\d{8}T\d{6}Z\b/g;
/** A SHA-256 in hex: of evidence that holds the time it was captured at, so it differs every run. */
const SHA256_HEX = /\b[0-9a-f]{64}\b/g;

function placeholders(text: string): string {
  return text.replace(RUN_ID, '<run>').replace(ISO_TIME, '<time>').replace(COMPACT_TIME, '<time>').replace(SHA256_HEX, '<sha256>');
}

/**
 * The SDK's own exception class for an error name, from the registry the
 * client's schemas fill as they load (so the `instanceof` checks of actions
 * hold); the SDK's base exception for a name the service does not model.
 */
function serviceError(service: string, name: string, message: string): Error {
  const metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };
  const registry = TypeRegistry.for(`com.amazonaws.${service}`);
  let ctor: (new (options: object) => Error) | undefined;
  try {
    ctor = registry.getErrorCtor(registry.getSchema(name) as StaticErrorSchema) as (new (options: object) => Error) | undefined;
  } catch {
    // Not a modelled error of this service: the generic exception below.
  }
  if (ctor !== undefined) return new ctor({ message, $metadata: metadata });
  return new ServiceException({ name, message, $fault: 'client', $metadata: metadata });
}

/**
 * Answers every call of the clients it is plugged into from a world, and
 * records the calls. Riposte's own calls sign with
 * {@link REPLAY_HOSTING_CREDENTIALS}; `sts:AssumeRole` is answered here, with
 * credentials that name the member account, so each call is recorded
 * against the account it went to.
 */
export class AwsReplay {
  readonly calls: ReplayedCall[] = [];
  /** The calls nothing answered: each failed the step that made it. */
  readonly missing: ReplayMissingAnswerError[] = [];
  readonly #answers: readonly Answer[];
  /** Riposte's own bucket (evidence), by bucket and key: it starts empty, and holds what the run writes. */
  readonly #objects = new Map<string, { readonly bytes: Uint8Array; readonly metadata: Record<string, string>; readonly legalHold?: 'ON' }>();
  /** The changes answered so far, by their index in the world: where the account's timeline stands. */
  readonly #made = new Set<number>();
  /** Member access key id → account, from the AssumeRole calls answered. */
  readonly #accounts = new Map<string, string>();

  /**
   * Each call as it was sent: its round trip on the run's critical path (one
   * more than the latest round trip answered before it was sent: calls sent
   * together share one) and when, in ms from the replay's start. Exact when
   * answers take time (`latencyMs` above 0): calls sent at once are then all
   * sent before any is answered.
   */
  readonly rounds: Array<{ readonly call: string; readonly account: string; readonly params: unknown; readonly round: number; readonly sentAtMs: number }> = [];
  #answeredRound = 0;
  readonly #latencyMs: number;
  readonly #started = performance.now();

  constructor(world: ReplayWorld, options: { readonly latencyMs?: number } = {}) {
    this.#answers = world.answers;
    this.#latencyMs = options.latencyMs ?? 0;
  }

  /** Waits as AWS would take to answer, then counts the round trip answered. */
  async #answered(round: number): Promise<void> {
    if (this.#latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
    this.#answeredRound = Math.max(this.#answeredRound, round);
  }

  /** The SDK plugin: a build-step middleware that never lets a request reach the network. */
  get plugin(): Pluggable<object, MetadataBearer> {
    const middleware: BuildMiddleware<object, MetadataBearer> = (_next, context) => async (args: BuildHandlerArguments<object>) => {
      const call = callOf(context);
      const scheme = context[SMITHY_CONTEXT_KEY]?.selectedHttpAuthScheme as { identity?: { accessKeyId?: string }; httpAuthOption?: { signingProperties?: { region?: string } } } | undefined;
      const accessKeyId = scheme?.identity?.accessKeyId ?? '';
      const account = this.#accounts.get(accessKeyId) ?? HOSTING;
      const region = scheme?.httpAuthOption?.signingProperties?.region ?? 'unknown';
      const params = recordedParam(args.input);
      const round = this.#answeredRound + 1;
      this.rounds.push({ call, account, params, round, sentAtMs: performance.now() - this.#started });
      try {
        const output = this.#answer(call, account, args.input as Record<string, unknown>);
        this.calls.push({ call, account, region, params });
        await this.#answered(round);
        const answered: MetadataBearer = { ...output, $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };
        return { output: answered, response: {} };
      } catch (error) {
        this.calls.push({ call, account, region, params, error: (error as Error).name });
        await this.#answered(round);
        throw error;
      }
    };
    return { applyToStack: (stack) => stack.add(middleware, { step: 'build', name: 'riposteAwsReplay', priority: 'high', override: true }) };
  }

  #answer(call: string, account: string, input: Record<string, unknown>): Record<string, unknown> {
    const [service = '', operation = ''] = call.split(':');
    const given = recordedParam(input);
    const matching = this.#answers.flatMap((answer, index) =>
      answer.call === call && (answer.account === undefined || answer.account === account) && (answer.input === undefined || includes(given, answer.input)) ? [index] : [],
    );
    if (matching.length === 0) {
      const builtIn = this.#builtIn(call, input);
      if (builtIn !== undefined) return builtIn;
      const missing = new ReplayMissingAnswerError(call, account, recordedParam(input));
      this.missing.push(missing);
      throw missing;
    }
    let index: number;
    if (isReadOperation(operation)) {
      // The state as it stands now: the latest answer listed after a change that has been made (or before
      // any change). An answer describes the state the change listed just before it left, so steps that run
      // side by side may make their changes in any order.
      const reached = (candidate: number): boolean => {
        for (let earlier = candidate - 1; earlier >= 0; earlier -= 1) {
          if (!isReadOperation((this.#answers[earlier] as Answer).call.split(':')[1] ?? '')) return this.#made.has(earlier);
        }
        return true;
      };
      index = matching.filter(reached).at(-1) ?? (matching[0] as number);
    } else {
      // A change takes the first answer listed for it that no earlier call took.
      index = matching.find((candidate) => !this.#made.has(candidate)) ?? (matching.at(-1) as number);
      this.#made.add(index);
    }
    const answer = this.#answers[index] as Answer;
    if (answer.error !== undefined) throw serviceError(service, answer.error.name, answer.error.message);
    return revive(answer.output ?? {}) as Record<string, unknown>;
  }

  /**
   * Calls whose answer is bookkeeping, not the account's state: Riposte
   * assuming the member role (answered with credentials for that account),
   * and its own records (the finding's note, the notification, the result
   * event, evidence written to its bucket), which a case need not spell out.
   */
  #builtIn(call: string, input: Record<string, unknown>): Record<string, unknown> | undefined {
    switch (call) {
      case 'sts:AssumeRole': {
        const account = /^arn:[\w-]+:iam::(\d{12}):role\//.exec(text(input.RoleArn))?.[1] ?? 'unknown';
        const accessKeyId = `ASIAREPLAY${String(this.#accounts.size + 1).padStart(10, '0')}`;
        this.#accounts.set(accessKeyId, account);
        return {
          Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'replay', SessionToken: 'replay', Expiration: new Date(Date.now() + 3_600_000) },
          AssumedRoleUser: { Arn: `arn:aws:sts::${account}:assumed-role/replay/${text(input.RoleSessionName)}`, AssumedRoleId: 'AROAREPLAY:replay' },
        };
      }
      case 'securityhub:BatchUpdateFindings':
      case 'securityhub:BatchUpdateFindingsV2':
        return { ProcessedFindings: [], UnprocessedFindings: [] };
      case 's3:PutObject':
      case 's3:GetObject':
      case 's3:ListObjectsV2':
        return this.#bucket(call, input);
      case 'sns:Publish':
        return { MessageId: 'replay' };
      case 'events:PutEvents':
        return { FailedEntryCount: 0, Entries: [{ EventId: 'replay' }] };
      default:
        return undefined;
    }
  }

  /** Riposte's evidence bucket, as S3 keeps one (with Object Lock, as the stack makes it): write-once puts, with a legal hold when asked, reads and listings of what was written. */
  #bucket(call: string, input: Record<string, unknown>): Record<string, unknown> {
    const bucket = text(input.Bucket);
    const key = text(input.Key);
    const id = `${bucket}/${key}`;
    if (call === 's3:PutObject') {
      if (input.IfNoneMatch === '*' && this.#objects.has(id)) throw serviceError('s3', 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      const legalHold = input.ObjectLockLegalHoldStatus === 'ON' ? { legalHold: 'ON' as const } : {};
      this.#objects.set(id, { bytes: bytesOf(input.Body), metadata: { ...((input.Metadata as Record<string, string> | undefined) ?? {}) }, ...legalHold });
      return { ETag: '"replay"' };
    }
    if (call === 's3:GetObject') {
      const object = this.#objects.get(id);
      if (object === undefined) throw serviceError('s3', 'NoSuchKey', 'The specified key does not exist.');
      const body = {
        transformToByteArray: () => Promise.resolve(object.bytes),
        transformToString: (encoding?: BufferEncoding) => Promise.resolve(Buffer.from(object.bytes).toString(encoding ?? 'utf8')),
      };
      return { Body: body, Metadata: object.metadata, ContentLength: object.bytes.byteLength, ...(object.legalHold === undefined ? {} : { ObjectLockLegalHoldStatus: object.legalHold }) };
    }
    const prefix = `${bucket}/${text(input.Prefix)}`;
    const contents = [...this.#objects.keys()]
      .filter((stored) => stored.startsWith(prefix))
      .sort()
      .map((stored) => ({ Key: stored.slice(bucket.length + 1), Size: this.#objects.get(stored)?.bytes.byteLength ?? 0 }));
    return { Contents: contents, KeyCount: contents.length, IsTruncated: false };
  }
}

/** A string parameter, or '' for one absent. */
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A request's body as bytes (the SDK takes a string or bytes for a JSON document or a screenshot). */
const bytesOf = (body: unknown): Uint8Array => (typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : Buffer.alloc(0));

/** A call the case's world has no answer for: the case is incomplete, and says which call to answer. */
export class ReplayMissingAnswerError extends RiposteError {
  override readonly name: string = 'ReplayMissingAnswerError';
  readonly code = 'REPLAY_MISSING_ANSWER';
  constructor(call: string, account: string, params: unknown) {
    super(`no answer for ${call} (account ${account}) with ${JSON.stringify(params)}`, { context: { operation: call, account }, retryable: false });
  }
}
