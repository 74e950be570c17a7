import { AwsClientFactory } from '../aws/index.js';
import { loadConfig, type AutomaticMode } from '../config.js';
import { MemoryRunLedger } from '../ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../log/index.js';
import { assemblePipeline, MemoryResumeQueue } from '../pipeline/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import { AwsReplay, recordedParam, REPLAY_HOSTING_CREDENTIALS, type ReplayWorld } from './aws-replay.js';

/*
 * A case's run against the accounts its world describes (`<case>.aws.json`):
 * the whole pipeline, as the findings function runs it — the member role
 * assumed, the target resolved, the guards, each step's plan, change and
 * verification, the finding's update — with every AWS call answered from
 * the world and recorded with its parameters. What the golden file holds of
 * it is the plan as AWS calls, and how each run ended.
 */

/** The deployment a case's run is made in: Riposte's home region, its bucket and role, and the case's settings. */
export interface ReplaySettings {
  readonly automatic: AutomaticMode;
  readonly excludedAccounts: readonly string[];
  readonly now?: string;
}

/** The settings of the replayed deployment, named so a golden file's calls can be read against them. */
export const REPLAY_DEPLOYMENT = {
  region: 'us-east-1',
  evidenceBucket: 'riposte-evidence-replay',
  memberRoleName: 'RiposteMemberRole',
  externalId: 'riposte-replay',
} as const;

/** The correlation id of every replayed delivery. */
const REPLAY_CORRELATION_ID = 'replay';

export interface ReplayOutcome {
  /** Each playbook run, by finding, as it ended. */
  readonly runs: ReadonlyArray<Record<string, unknown>>;
  /** Every AWS call, in order, with its parameters. */
  readonly calls: readonly unknown[];
  /** Calls the world had no answer for (each failed its step): the case needs them answered. */
  readonly missing: readonly string[];
  /** Each call's round trip on the critical path, and when it was sent (see AwsReplay.rounds). */
  readonly rounds: AwsReplay['rounds'];
  /** How long the run took, in ms, with answers taking `latencyMs` each. */
  readonly elapsedMs: number;
}

/** Runs `event` through the pipeline against `world`, and returns what the golden file holds of it. */
export async function replayCase(
  event: unknown,
  world: ReplayWorld,
  settings: ReplaySettings,
  playbooks: readonly CompiledPlaybook[],
  options: { readonly latencyMs?: number } = {},
): Promise<ReplayOutcome> {
  const replay = new AwsReplay(world, options);
  const config = loadConfig({
    AWS_REGION: REPLAY_DEPLOYMENT.region,
    RIPOSTE_AUTOMATIC: settings.automatic,
    RIPOSTE_EXCLUDED_ACCOUNTS: settings.excludedAccounts.join(','),
    RIPOSTE_EVIDENCE_BUCKET: REPLAY_DEPLOYMENT.evidenceBucket,
    RIPOSTE_MEMBER_ROLE_NAME: REPLAY_DEPLOYMENT.memberRoleName,
    RIPOSTE_EXTERNAL_ID: REPLAY_DEPLOYMENT.externalId,
    // One finding at a time: the calls are recorded in one order, every run.
    RIPOSTE_CONCURRENCY: '1',
  });
  const factory = new AwsClientFactory(config.aws, { credentials: REPLAY_HOSTING_CREDENTIALS, plugins: [replay.plugin] });
  const pipeline = assemblePipeline(config, {
    factory,
    playbooks,
    logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }),
    // The run's record is thrown away with the case: a ledger in memory keeps it by the same rules, without a disk write per step.
    ledger: new MemoryRunLedger(),
    resumeQueue: new MemoryResumeQueue(),
    ...(settings.now === undefined ? {} : { clock: () => new Date(settings.now as string) }),
  });
  // A fixed correlation id: the member-role session is named after it, in the calls recorded.
  const started = performance.now();
  const result = await pipeline.handleEvent(event, { correlationId: REPLAY_CORRELATION_ID });
  const elapsedMs = performance.now() - started;
  const runs = result.findings.flatMap((finding) =>
    finding.runs.map((run) => ({
      finding: finding.findingId,
      playbook: run.playbookId,
      status: run.status,
      mode: run.mode,
      summary: run.summary,
      ...(run.guard === undefined ? {} : { guard: run.guard.code }),
      ...(run.workflowStatus === undefined ? {} : { workflow: run.workflowStatus }),
      steps: run.steps.map((step) => ({ action: step.action, phase: step.phase, status: step.status, summary: step.summary })),
    })),
  );
  return {
    runs: recordedParam(runs) as Array<Record<string, unknown>>,
    calls: replay.calls.map((call) => ({ ...call })),
    missing: replay.missing.map((error) => error.message),
    rounds: replay.rounds,
    elapsedMs,
  };
}
