import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { builtInActions } from '../actions/index.js';
import { AwsClientFactory } from '../aws/index.js';
import { ConfigError, loadConfig, PACKAGED_PLAYBOOK_LIBRARY, type Config } from '../config.js';
import { DynamoDbRunLedger, type RunLedger } from '../ledger/index.js';
import { RiposteLogger, type RunLogger } from '../log/index.js';
import { assemblePipeline, type Pipeline, type PipelineParts } from '../pipeline/index.js';
import { readCompiledLibrary, type CompiledPlaybook } from '../playbooks/index.js';
import { PowertoolsMetricsSink, type MetricsSink } from './metrics.js';

/** What every handler works with: built once per container, on the first invocation. */
export interface LambdaRuntime {
  readonly config: Config;
  readonly pipeline: Pipeline;
  /** The pipeline's own ledger: the API reads runs from it. */
  readonly ledger: RunLedger;
  readonly playbooks: readonly CompiledPlaybook[];
  readonly logger: RunLogger;
  readonly metrics: MetricsSink;
}

/** What a caller may supply instead of what the environment describes (tests: the emulator's clients, a memory log and metrics). */
export interface LambdaRuntimeOptions {
  readonly environment?: NodeJS.ProcessEnv;
  readonly factory?: AwsClientFactory;
  readonly logger?: RunLogger;
  readonly metrics?: MetricsSink;
  readonly playbooks?: readonly CompiledPlaybook[];
  /** Passed on to `assemblePipeline` (a test's resume queue or settings). */
  readonly parts?: Pick<PipelineParts, 'resumeQueue' | 'settings' | 'clock' | 'registry'>;
}

/**
 * The playbook library the function was packaged with, compiled at package
 * time (`serverless package` writes it to PACKAGED_PLAYBOOK_LIBRARY). A
 * deployed function with a missing or foreign library must fail loudly (its
 * messages go back to the queue, the API answers 500) rather than run with
 * part of it. Outside Lambda, RIPOSTE_PLAYBOOK_LIBRARY names the file.
 *
 * @throws ConfigError (no file named), PlaybookCompileError, LocalFileError (the file is missing).
 */
export async function packagedPlaybooks(config: Config): Promise<readonly CompiledPlaybook[]> {
  if (config.playbookLibrary === undefined) {
    throw new ConfigError(
      `Invalid configuration: RIPOSTE_PLAYBOOK_LIBRARY must name the compiled playbook library (serverless package writes it to ${PACKAGED_PLAYBOOK_LIBRARY})`,
      'RIPOSTE_PLAYBOOK_LIBRARY',
    );
  }
  return readCompiledLibrary(config.playbookLibrary, builtInActions());
}

/**
 * The cold start, shared by every handler: configuration from the
 * environment (`loadConfig`), the packaged playbook library, the ledger
 * and the pipeline assembled from that configuration.
 *
 * @throws ConfigError, PlaybookCompileError, LocalFileError.
 */
export async function createLambdaRuntime(options: LambdaRuntimeOptions = {}): Promise<LambdaRuntime> {
  const config = loadConfig(options.environment ?? process.env);
  const logger = options.logger ?? new RiposteLogger({ logLevel: config.logLevel });
  const factory = options.factory ?? new AwsClientFactory(config.aws);
  const playbooks = options.playbooks ?? (await packagedPlaybooks(config));
  const table = config.resources.ledgerTable;
  if (table === undefined) throw new ConfigError('Invalid configuration: RIPOSTE_LEDGER_TABLE must name the run ledger table', 'RIPOSTE_LEDGER_TABLE');
  const ledger = new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), table);
  const pipeline = assemblePipeline(config, { factory, playbooks, logger, ledger, ...options.parts });
  return { config, pipeline, ledger, playbooks, logger, metrics: options.metrics ?? new PowertoolsMetricsSink() };
}

/**
 * The runtime of this container: built on the first call, then shared by
 * every later invocation (config parsed and playbooks compiled once). A
 * failed build is not kept: the next invocation tries again, so a
 * transient failure does not poison the container — and a persistent one
 * (a bad variable, a broken playbook) fails every invocation loudly.
 */
export function containerRuntime(build: () => Promise<LambdaRuntime> = () => createLambdaRuntime()): () => Promise<LambdaRuntime> {
  let pending: Promise<LambdaRuntime> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
