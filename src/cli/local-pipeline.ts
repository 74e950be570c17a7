import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

import type { Command } from 'commander';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { AwsClientFactory } from '../aws/index.js';
import { loadConfig, type Config } from '../config.js';
import { emulatorClientOptions } from '../emulator/index.js';
import { DynamoDbRunLedger, FileRunLedger, type RunLedger } from '../ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../log/index.js';
import { assemblePipeline, MemoryResumeQueue, type Pipeline, type PlaybookRunResult, type RunRecorder } from '../pipeline/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { terminalLines } from './format.js';
import { DEFAULT_LEDGER_DIRECTORY, endpoint as endpointArgument, region as regionArgument } from './ledger-option.js';

/**
 * The pipeline the CLI's `run`, `respond` and `rollback` drive: the one the
 * Lambda functions run, assembled from the same configuration (the
 * `RIPOSTE_*` variables of the README, read by `loadConfig`), with what a
 * workstation has instead of the deployment's queues: long steps resume in
 * this process, and runs are recorded in a file ledger (`--ledger`, default
 * `.riposte/ledger`, where `riposte runs` reads) unless `--table` names the deployment's DynamoDB table.
 */

export interface PipelineCommandOptions {
  readonly playbooks: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly ledger?: string;
  readonly table?: string;
  readonly automatic?: string;
  readonly verbose?: boolean;
}

/** The options every pipeline command takes (`--region`, the home region, unless the command's own `--region` says where to act). */
export function pipelineOptions(command: Command, { region = true }: { region?: boolean } = {}): Command {
  if (region) command.option('--region <region>', 'the home region (default AWS_REGION)', regionArgument);
  return command
    .option('--playbooks <path>', 'playbook file or directory', 'playbooks')
    .option('--endpoint <url>', 'an AWS endpoint to use instead of AWS (the emulator: its test credentials are used)', endpointArgument)
    .option('--ledger <directory>', `record runs in this directory (default ${DEFAULT_LEDGER_DIRECTORY})`)
    .option('--table <name>', 'record runs in this DynamoDB ledger table instead (the deployment’s)')
    .option('--verbose', 'print the pipeline’s log lines (JSON) on standard error');
}

/** Records nothing in AWS (no note, message or event): `plan --live` reads live state and writes nothing. */
const READ_ONLY_RECORDER: RunRecorder = {
  record: () => {
    const skipped = { status: 'skipped', detail: 'plan --live records nothing in AWS' } as const;
    return Promise.resolve({ note: skipped, notification: skipped, event: skipped });
  },
};

export interface LocalPipeline {
  readonly pipeline: Pipeline;
  readonly ledger: RunLedger;
  readonly config: Config;
  /** The person at the terminal, as runs record who asked. */
  readonly principal: string;
}

/**
 * The pipeline, its ledger and configuration, from the environment and the command's options.
 * @throws ConfigError (a bad variable or option), PlaybookCompileError.
 */
export async function localPipeline(options: PipelineCommandOptions, stderr: { write(text: string): unknown }, { readOnly = false }: { readOnly?: boolean } = {}): Promise<LocalPipeline> {
  const config = loadConfig({
    ...process.env,
    ...(options.endpoint === undefined ? {} : { RIPOSTE_AWS_ENDPOINT: options.endpoint }),
    ...(options.region === undefined ? {} : { AWS_REGION: options.region }),
    ...(options.automatic === undefined ? {} : { RIPOSTE_AUTOMATIC: options.automatic }),
  });
  const { playbooks, problems } = await loadPlaybooks(options.playbooks);
  if (problems.length > 0) throw new PlaybookCompileError(problems);
  // An endpoint is the emulator (or a proxy to it): it takes any signature, and no credentials are needed.
  const factory = new AwsClientFactory(config.aws, config.aws.endpoint === undefined ? {} : emulatorClientOptions());
  // Read-only: the plans' run records go to a scratch ledger removed when the process exits, never to the deployment's.
  const ledger: RunLedger = readOnly
    ? new FileRunLedger(scratchDirectory())
    : options.table === undefined
      ? new FileRunLedger(resolve(options.ledger ?? DEFAULT_LEDGER_DIRECTORY))
      : new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), options.table);
  const logger = new RiposteLogger({ logLevel: options.verbose === true ? 'debug' : 'error', stream: options.verbose === true ? stderr : new MemoryLogSink() });
  const pipeline = assemblePipeline(config, { factory, playbooks, logger, ledger, resumeQueue: new MemoryResumeQueue(), ...(readOnly ? { recorder: READ_ONLY_RECORDER } : {}) });
  return { pipeline, ledger, config, principal: `cli:${userInfo().username}` };
}

function scratchDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-plan-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** One run as a responder reads it at a terminal: status, mode and why, then each step. */
export function describeRun(run: PlaybookRunResult): string {
  const lines = [`  ${run.playbookId}: ${run.status} (${run.mode}: ${run.modeReason})${run.runId === undefined ? '' : ` run ${run.runId}`}`, `    ${run.summary}`];
  if (run.guard !== undefined) lines.push(`    guard    ${run.guard.code}: ${run.guard.reason}`);
  for (const step of run.steps) lines.push(`    ${step.phase.padEnd(8)} ${step.action}: ${step.status}${step.summary === '' ? '' : ` — ${step.summary}`}`);
  return terminalLines(lines);
}

/** Whether any run of these failed: a remediation that did not complete is exit 1. */
export const anyFailed = (runs: readonly PlaybookRunResult[]): boolean => runs.some((run) => run.status === 'failed');
