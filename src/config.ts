import { join } from 'node:path';

import * as z from './zod.js';

import { parsePrincipalList, regionSchema, type PrincipalList } from './aws-names.js';
import { RiposteError } from './errors.js';

/**
 * How automatic deliveries are handled, as a deployment chooses:
 * `off` ignores them, `plan` (the default) records what would be done,
 * `enforce` makes the changes.
 */
export const AutomaticMode = { Off: 'off', Plan: 'plan', Enforce: 'enforce' } as const;
export type AutomaticMode = (typeof AutomaticMode)[keyof typeof AutomaticMode];

const optionalString = z.optional(
  z.pipe(
    z.string().check(z.trim()),
    z.transform((value: string) => (value === '' ? undefined : value)),
  ),
);
const whole = (minimum: number, maximum: number, fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(minimum), z.maximum(maximum)), fallback);
const matching = (pattern: RegExp, message: string) => z.string().check(z.regex(pattern, message));

const EVIDENCE_BUCKETS_FORMAT = 'must be a JSON object from AWS region to S3 bucket name, e.g. {"eu-west-1":"riposte-evidence-111122223333-eu-west-1"}';
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `RIPOSTE_EVIDENCE_BUCKETS` read: region to bucket, or `undefined` when it is not such a map. */
function evidenceBucketsOf(text: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed);
  const valid = entries.every(([region, bucket]) => regionSchema.safeParse(region).success && typeof bucket === 'string' && BUCKET_NAME.test(bucket));
  return valid ? Object.freeze(Object.fromEntries(entries) as Record<string, string>) : undefined;
}

/** The environment variables Riposte reads, and how each is validated. */
const environmentSchema = z.object({
  AWS_REGION: z.optional(regionSchema),
  AWS_DEFAULT_REGION: z.optional(regionSchema),
  RIPOSTE_AWS_ENDPOINT: z.pipe(optionalString, z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:5000' }))),
  RIPOSTE_AUTOMATIC: z._default(z.enum(['off', 'plan', 'enforce']), 'plan'),
  RIPOSTE_MAX_ATTEMPTS: whole(1, 20, 5),
  RIPOSTE_LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  RIPOSTE_EXCLUDED_ACCOUNTS: z.pipe(
    optionalString,
    z.optional(
      z.pipe(
        matching(/^\d{12}(\s*,\s*\d{12})*$/, 'must be 12-digit account ids separated by commas'),
        z.transform((value: string) => value.split(',').map((id) => id.trim())),
      ),
    ),
  ),
  RIPOSTE_EXEMPT_TAG: z._default(matching(/^[^=]{1,128}=[^=]{1,256}$/, 'must be key=value, e.g. riposte:exempt=true'), 'riposte:exempt=true'),
  RIPOSTE_IDEMPOTENCY_WINDOW_SECONDS: whole(60, 30 * 86_400, 86_400),
  RIPOSTE_API_IDEMPOTENCY_WINDOW_SECONDS: whole(1, 86_400, 300),
  RIPOSTE_CONCURRENCY: whole(1, 64, 8),
  RIPOSTE_MAX_RESUMES: whole(0, 200, 12),
  RIPOSTE_LEDGER_TABLE: optionalString,
  RIPOSTE_TOPIC_ARN: z.pipe(optionalString, z.optional(matching(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN'))),
  RIPOSTE_EVENT_BUS: optionalString,
  RIPOSTE_EVIDENCE_BUCKET: optionalString,
  // {"eu-west-1": "riposte-evidence-111122223333-eu-west-1", …}: each Region's evidence bucket (evidence never leaves its Region).
  RIPOSTE_EVIDENCE_BUCKETS: z.pipe(
    optionalString,
    z.optional(
      z.pipe(
        z.string().check(z.refine((text: string) => evidenceBucketsOf(text) !== undefined, EVIDENCE_BUCKETS_FORMAT)),
        z.transform((text: string) => evidenceBucketsOf(text) as Record<string, string>),
      ),
    ),
  ),
  RIPOSTE_EVIDENCE_SIGNING_KEY: z.pipe(
    optionalString,
    z.optional(matching(/^(arn:aws[\w-]*:kms:[\w-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/, 'must be a KMS key id, key ARN, alias name or alias ARN')),
  ),
  // The account investigators work in: evidence snapshots shared with `forensics` go to it (absent: they stay in the member account).
  RIPOSTE_FORENSICS_ACCOUNT: z.pipe(optionalString, z.optional(matching(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
  RIPOSTE_EVIDENCE_SIGNING_ALGORITHM: z._default(z.enum(['ECDSA_SHA_256', 'RSASSA_PSS_SHA_256']), 'ECDSA_SHA_256'),
  RIPOSTE_RESUME_QUEUE_URL: z.pipe(optionalString, z.optional(z.url({ protocol: /^https?$/, error: 'must be an SQS queue URL' }))),
  RIPOSTE_RECORD_RETRY_QUEUE_URL: z.pipe(optionalString, z.optional(z.url({ protocol: /^https?$/, error: 'must be an SQS queue URL' }))),
  // SQS's per-message delay is 0..900 s.
  RIPOSTE_RECORD_RETRY_DELAY_SECONDS: whole(0, 900, 60),
  RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS: whole(1, 100, 6),
  RIPOSTE_MEMBER_ROLE_NAME: z._default(matching(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name'), 'RiposteMemberRole'),
  RIPOSTE_EXTERNAL_ID: optionalString,
  // The API's principals, as the stage parameter names them for the resource policy: the function checks them too.
  RIPOSTE_API_PRINCIPALS: z.pipe(
    optionalString,
    z.optional(z.string().check(z.refine((text: string) => parsePrincipalList(text).refused.length === 0, 'must be 12-digit account ids and IAM role, user or root ARNs, separated by commas'))),
  ),
  RIPOSTE_PLAYBOOK_LIBRARY: optionalString,
  // Set by the Lambda runtime: where the function's package is unpacked (its compiled playbook library beside the code).
  LAMBDA_TASK_ROOT: optionalString,
});

export interface AwsSettings {
  /** Region of the hosting account; member-account clients name their own. */
  readonly region: string;
  /** Endpoint override (the emulator locally and in tests); unset in production. */
  readonly endpoint?: string;
  /** Attempts per call, including the first, under the SDK's adaptive retry strategy. */
  readonly maxAttempts: number;
}

/** How runs are guarded and paced (see `PipelineSettings`). */
export interface RunSettings {
  /** Accounts no playbook ever changes (the deployment's own, break-glass accounts). */
  readonly excludedAccounts: readonly string[];
  /** Tags that exempt a resource from every playbook, besides each playbook's own (`riposte:exempt: "true"`). */
  readonly exemptTags: Readonly<Record<string, string>>;
  /** A finding version and playbook run once within this window (seconds). */
  readonly idempotencyWindowSeconds: number;
  /** An on-demand request for the same resource and playbook runs once within this window (seconds). */
  readonly apiIdempotencyWindowSeconds: number;
  /** Findings of one batch handled at once. */
  readonly concurrency: number;
  /** Give up on an in-progress step after this many resumes. */
  readonly maxResumes: number;
}

/** Riposte's own resources, named by the deployment (absent: that record or feature is off). */
export interface DeploymentResources {
  readonly ledgerTable?: string;
  readonly topicArn?: string;
  readonly eventBus?: string;
  /** The hosting Region's evidence bucket (`RIPOSTE_EVIDENCE_BUCKET`), unless `evidenceBuckets` names another there. */
  readonly evidenceBucket?: string;
  /** Each Region's evidence bucket (`RIPOSTE_EVIDENCE_BUCKETS`): evidence about a resource is stored in its own Region only. */
  readonly evidenceBuckets?: Readonly<Record<string, string>>;
  /** The asymmetric KMS key that signs each run's evidence manifest, and how (absent: manifests are unsigned). */
  readonly evidenceSigningKey?: EvidenceSigningKey;
  /** The forensics account (`RIPOSTE_FORENSICS_ACCOUNT`): what a step's `shareWithAccount: forensics` shares with. */
  readonly forensicsAccount?: string;
  readonly resumeQueueUrl?: string;
  /** Where a finding note or workflow update that did not land is retried from, and how (absent: not retried). */
  readonly recordRetry?: RecordRetryResource;
  readonly memberRoleName: string;
  readonly externalId?: string;
}

/** The key evidence manifests are signed with (`RIPOSTE_EVIDENCE_SIGNING_KEY`, `RIPOSTE_EVIDENCE_SIGNING_ALGORITHM`). */
export interface EvidenceSigningKey {
  /** Key id, key ARN, alias name or alias ARN, in the hosting Region (or an ARN elsewhere). */
  readonly keyId: string;
  /** `ECDSA_SHA_256` (an ECC_NIST_P256 key, the default) or `RSASSA_PSS_SHA_256` (an RSA key). */
  readonly algorithm: 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256';
}

/** The record-retry queue and its pacing. */
export interface RecordRetryResource {
  readonly queueUrl: string;
  /** Wait before the first retry (SQS per-message delay). */
  readonly delaySeconds: number;
  /** Attempts, the run's own included, after which a finding Security Hub does not hold is given up. */
  readonly maxAttempts: number;
}

export interface Config {
  readonly aws: AwsSettings;
  /**
   * The compiled playbook library a function reads (JSON, written by
   * `serverless package`): `RIPOSTE_PLAYBOOK_LIBRARY`, else its place in the
   * Lambda package (`$LAMBDA_TASK_ROOT/.riposte/playbooks.json`); absent
   * outside Lambda without the variable.
   */
  readonly playbookLibrary?: string;
  readonly automatic: AutomaticMode;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly run: RunSettings;
  readonly resources: DeploymentResources;
  /** Who may call the on-demand API (`RIPOSTE_API_PRINCIPALS`); empty: the function's own account only. */
  readonly apiPrincipals: PrincipalList;
}

export class ConfigError extends RiposteError {
  override readonly name: string = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(message: string, field: string) {
    super(message, { context: { field } });
  }
}

const DEFAULT_REGION = 'us-east-1';

/** Where `serverless package` writes the compiled playbook library, from the service directory; so where it is in each function's package. */
export const PACKAGED_PLAYBOOK_LIBRARY = '.riposte/playbooks.json';

/** `{ key: value }` when the value is set, `{}` otherwise (optional properties stay absent, not `undefined`). */
const defined = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]?: V }));

/**
 * Parses configuration once, from an environment passed in (never read at
 * module scope, so tests and handlers each choose theirs).
 *
 * @throws ConfigError naming the first invalid variable.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    // The schema is flat (one key a variable), which is the shape flattenError reports.
    const [field, messages] = Object.entries(z.flattenError(parsed.error).fieldErrors)[0] ?? ['(environment)', ['is invalid']];
    throw new ConfigError(`Invalid configuration: ${field} ${messages.join('; ')}`, field);
  }
  const env = parsed.data;
  const endpoint = env.RIPOSTE_AWS_ENDPOINT;
  const playbookLibrary = env.RIPOSTE_PLAYBOOK_LIBRARY ?? (env.LAMBDA_TASK_ROOT === undefined ? undefined : join(env.LAMBDA_TASK_ROOT, PACKAGED_PLAYBOOK_LIBRARY));
  return Object.freeze({
    aws: Object.freeze({
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
      maxAttempts: env.RIPOSTE_MAX_ATTEMPTS,
      ...(endpoint === undefined ? {} : { endpoint }),
    }),
    automatic: env.RIPOSTE_AUTOMATIC,
    ...defined('playbookLibrary', playbookLibrary),
    logLevel: env.RIPOSTE_LOG_LEVEL,
    apiPrincipals: Object.freeze(parsePrincipalList(env.RIPOSTE_API_PRINCIPALS ?? '').list),
    run: Object.freeze({
      excludedAccounts: env.RIPOSTE_EXCLUDED_ACCOUNTS ?? [],
      exemptTags: Object.fromEntries([env.RIPOSTE_EXEMPT_TAG.split('=') as [string, string]]),
      idempotencyWindowSeconds: env.RIPOSTE_IDEMPOTENCY_WINDOW_SECONDS,
      apiIdempotencyWindowSeconds: env.RIPOSTE_API_IDEMPOTENCY_WINDOW_SECONDS,
      concurrency: env.RIPOSTE_CONCURRENCY,
      maxResumes: env.RIPOSTE_MAX_RESUMES,
    }),
    resources: Object.freeze({
      memberRoleName: env.RIPOSTE_MEMBER_ROLE_NAME,
      ...defined('ledgerTable', env.RIPOSTE_LEDGER_TABLE),
      ...defined('topicArn', env.RIPOSTE_TOPIC_ARN),
      ...defined('eventBus', env.RIPOSTE_EVENT_BUS),
      ...defined('evidenceBucket', env.RIPOSTE_EVIDENCE_BUCKET),
      ...defined('evidenceBuckets', env.RIPOSTE_EVIDENCE_BUCKETS),
      ...defined(
        'evidenceSigningKey',
        env.RIPOSTE_EVIDENCE_SIGNING_KEY === undefined ? undefined : Object.freeze({ keyId: env.RIPOSTE_EVIDENCE_SIGNING_KEY, algorithm: env.RIPOSTE_EVIDENCE_SIGNING_ALGORITHM }),
      ),
      ...defined('forensicsAccount', env.RIPOSTE_FORENSICS_ACCOUNT),
      ...defined('resumeQueueUrl', env.RIPOSTE_RESUME_QUEUE_URL),
      ...defined(
        'recordRetry',
        env.RIPOSTE_RECORD_RETRY_QUEUE_URL === undefined
          ? undefined
          : Object.freeze({ queueUrl: env.RIPOSTE_RECORD_RETRY_QUEUE_URL, delaySeconds: env.RIPOSTE_RECORD_RETRY_DELAY_SECONDS, maxAttempts: env.RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS }),
      ),
      ...defined('externalId', env.RIPOSTE_EXTERNAL_ID),
    }),
  });
}
