import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { builtInActions, type ActionRegistry } from '../actions/index.js';
import { MemberClients, MemberCredentials, type AwsClientFactory } from '../aws/index.js';
import { ConfigError, type Config, type EvidenceSigningKey } from '../config.js';
import { IndexedMatcher } from '../engine/index.js';
import { kmsManifestSigner, type KmsSigningApi, type ManifestSigner } from '../evidence/index.js';
import { DynamoDbRunLedger, type RunLedger } from '../ledger/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import type { RunLogger } from '../log/index.js';
import { Pipeline } from './pipeline.js';
import { AwsRunRecorder, SqsResumeQueue, type RecordRetryQueue, type ResumeQueue, type RunRecorder } from './record/index.js';
import type { PipelineSettings } from './types.js';

/** What a caller supplies besides the configuration. */
export interface PipelineParts {
  /** Clients as Riposte itself (the emulator locally, the Lambda role in production). */
  readonly factory: AwsClientFactory;
  readonly playbooks: readonly CompiledPlaybook[];
  readonly logger: RunLogger;
  readonly registry?: ActionRegistry;
  /** Overrides the DynamoDB ledger `RIPOSTE_LEDGER_TABLE` names (the CLI's file ledger). */
  readonly ledger?: RunLedger;
  /** Overrides the SQS queue `RIPOSTE_RESUME_QUEUE_URL` names (the CLI resumes in-process). */
  readonly resumeQueue?: ResumeQueue;
  /** Overrides the SQS queue `RIPOSTE_RECORD_RETRY_QUEUE_URL` names (none configured nor given: a failed finding update is not retried). */
  readonly recordRetryQueue?: RecordRetryQueue;
  /** Overrides the recorder of notes, messages and result events (`riposte plan --live`: one that records nothing in AWS). */
  readonly recorder?: RunRecorder;
  /** Overrides settings the environment does not carry (tests, the demo). */
  readonly settings?: Partial<PipelineSettings>;
  readonly clock?: () => Date;
}

/** Member-role sessions last 15 minutes: long enough for one run, short-lived if leaked. */
const SESSION_SECONDS = 900;

/**
 * The pipeline as a deployment wires it from its configuration: the
 * DynamoDB ledger, member accounts through the configured role and external
 * id, the SQS resume queue, the evidence buckets by Region and the KMS key
 * that signs evidence manifests, records to Security Hub (failed updates
 * retried from the record-retry queue, when one is named), SNS and EventBridge.
 *
 * @throws ConfigError when a resource the pipeline cannot run without (ledger, resume queue) is neither configured nor supplied.
 */
export function assemblePipeline(config: Config, parts: PipelineParts): Pipeline {
  const { factory } = parts;
  const { resources, run } = config;
  const ledger =
    parts.ledger ??
    (resources.ledgerTable === undefined
      ? missing('RIPOSTE_LEDGER_TABLE', 'the run ledger table')
      : new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), resources.ledgerTable));
  const resumeQueue =
    parts.resumeQueue ??
    (resources.resumeQueueUrl === undefined ? missing('RIPOSTE_RESUME_QUEUE_URL', 'the queue that resumes long steps') : new SqsResumeQueue(factory.create(SQSClient), resources.resumeQueueUrl));
  const credentials = new MemberCredentials(factory, {
    roleName: resources.memberRoleName,
    ...(resources.externalId === undefined ? {} : { externalId: resources.externalId }),
    sessionDurationSeconds: SESSION_SECONDS,
    assumeRoleInHostingAccount: false,
  });
  const registry = parts.registry ?? builtInActions();
  return new Pipeline({
    settings: { automatic: config.automatic, staleRunSeconds: 1800, ...run, ...parts.settings },
    playbooks: parts.playbooks,
    matcher: new IndexedMatcher(parts.playbooks),
    registry,
    ledger,
    clients: new MemberClients(factory, credentials),
    hosting: {
      factory,
      ...(resources.evidenceBucket === undefined ? {} : { evidenceBucket: resources.evidenceBucket }),
      ...(resources.evidenceBuckets === undefined ? {} : { evidenceBuckets: resources.evidenceBuckets }),
      ...(resources.evidenceSigningKey === undefined ? {} : { evidenceSigner: evidenceSignerOf(factory, resources.evidenceSigningKey) }),
      ...(resources.forensicsAccount === undefined ? {} : { forensicsAccount: resources.forensicsAccount }),
      ...(resources.topicArn === undefined ? {} : { topicArn: resources.topicArn }),
    },
    recorder: parts.recorder ?? AwsRunRecorder.fromConfig(factory, config, parts.recordRetryQueue),
    resumeQueue,
    logger: parts.logger,
    ...(parts.clock === undefined ? {} : { clock: parts.clock }),
  });
}

/**
 * The manifest signer of the configured key: KMS Sign and GetPublicKey as
 * Riposte itself. KMS answers for a key only in the key's own Region: a key
 * ARN is sent to the Region it names, an id or alias to the hosting Region.
 */
function evidenceSignerOf(factory: AwsClientFactory, key: EvidenceSigningKey): ManifestSigner {
  const region = /^arn:[\w-]+:kms:([\w-]+):/.exec(key.keyId)?.[1];
  const kms = factory.create(KMSClient, region === undefined ? {} : { region });
  const api: KmsSigningApi = {
    sign: (input) => kms.send(new SignCommand(input)),
    getPublicKey: (input) => kms.send(new GetPublicKeyCommand(input)),
  };
  return kmsManifestSigner(api, key.keyId, key.algorithm);
}

function missing(variable: string, what: string): never {
  throw new ConfigError(`Invalid configuration: ${variable} must name ${what}`, variable);
}
