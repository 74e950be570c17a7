import { InvalidArgumentError, Option, type Command } from 'commander';

import type { AutomaticMode } from '../config.js';
import { IndexedMatcher } from '../engine/index.js';
import { eventOfRawFinding, IntakeError, readEvent } from '../intake/index.js';
import { ReplayTally, shadowPlan, type PipelineResult, type ReplaySummary, type ShadowFinding } from '../pipeline/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { stepLine, terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';
import { endpoint, region } from './ledger-option.js';
import { replayItems, securityHubItems, type ReplayItem } from './replay-source.js';
import { parseSince } from './since.js';

interface PlanOptions {
  readonly event?: string;
  readonly fromSecurityHub?: boolean;
  readonly filter: string[];
  readonly since?: Date;
  readonly region?: string;
  readonly endpoint?: string;
  readonly limit?: number;
  readonly playbooks: string;
  readonly automatic: AutomaticMode;
  readonly excludeAccount: string[];
  readonly json?: boolean;
  readonly details?: boolean;
  readonly live?: boolean;
}

/** `--filter`'s value, checked as commander parses it: `Field=Value`. */
function filterPair(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z]+=.+$/.test(value)) throw new InvalidArgumentError('a GetFindings string filter Field=Value is expected, e.g. ComplianceStatus=FAILED.');
  return [...previous, value];
}

function positiveCount(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('a positive whole number is expected.');
  return Number(value);
}

/** A replay of more findings than this prints the summary only (`--details` or `--json` shows every finding). */
const DETAILED_UP_TO = 20;

/** One input that could not be read: where, and why. */
interface Unreadable {
  readonly origin: string;
  readonly error: string;
}

function describeShadow(shadow: ShadowFinding): string[] {
  const lines = [`${shadow.source} ${shadow.id}`, `  ${shadow.title}`, `  account ${shadow.account}  region ${shadow.region}`, `  resources  ${shadow.resources.join(', ') || 'none'}`];
  if (shadow.skipped !== undefined) lines.push(`  skipped    ${shadow.skipped}`);
  if (shadow.playbooks.length === 0) lines.push('  matched    no playbook');
  for (const planned of shadow.playbooks) {
    lines.push(`  ${planned.decision.padEnd(10)} ${planned.playbook}: ${planned.reason}`);
    for (const condition of planned.because) lines.push(`    because  ${condition.fact} ${condition.operator} ${JSON.stringify(condition.value)} (was ${JSON.stringify(condition.factValue)})`);
    planned.steps.forEach((step, index) => lines.push(stepLine(step, index)));
  }
  return lines;
}

/** The most skipped resources listed per playbook at a terminal (`--json` has all). */
const LISTED_SKIPS = 5;

function describeSummary(summary: ReplaySummary, automatic: AutomaticMode, unreadable: readonly Unreadable[]): string[] {
  const lines = [`Replayed ${summary.findings} finding${summary.findings === 1 ? '' : 's'} with automatic: ${automatic}${summary.rejected > 0 ? ` (${summary.rejected} could not be read)` : ''}`];
  for (const replay of summary.playbooks) {
    lines.push(
      `  ${replay.playbook}: matched ${replay.matched}, would act on ${replay.act}, plan ${replay.plan}, skip ${replay.skipped.length}; ${replay.accounts.length} account${replay.accounts.length === 1 ? '' : 's'}, ${replay.resources.length} resource${replay.resources.length === 1 ? '' : 's'} to change`,
    );
    if (replay.accounts.length > 0) lines.push(`    accounts  ${replay.accounts.slice(0, 10).join(', ')}${replay.accounts.length > 10 ? `, … (${replay.accounts.length - 10} more)` : ''}`);
    for (const skip of replay.skipped.slice(0, LISTED_SKIPS)) lines.push(`    skips     ${skip.resource}: ${skip.reason}`);
    if (replay.skipped.length > LISTED_SKIPS) lines.push(`    skips     … ${replay.skipped.length - LISTED_SKIPS} more (--json lists every one)`);
  }
  lines.push(`  no playbook matches ${summary.unmatched} finding${summary.unmatched === 1 ? '' : 's'}`);
  for (const item of unreadable.slice(0, LISTED_SKIPS)) lines.push(`  unreadable ${item.origin}: ${item.error}`);
  if (unreadable.length > LISTED_SKIPS) lines.push(`  unreadable … ${unreadable.length - LISTED_SKIPS} more (--json lists every one)`);
  return lines;
}

/** Whether the stream is a terminal (progress and nothing else is shown only there). */
const isTerminal = (stream: unknown): boolean => (stream as { isTTY?: boolean }).isTTY === true;

/**
 * `plan --live`: the pipeline's own plan of each event (a dry run: targets
 * resolved live, every guard, each step's plan from the current state), with
 * a recorder and a ledger that write nothing to AWS.
 */
async function livePlan(items: AsyncIterable<ReplayItem>, options: PlanOptions, io: CommandIo): Promise<void> {
  // Loaded only here: the offline plan needs neither the SDK's clients nor the pipeline's assembly.
  const { describeRun, localPipeline } = await import('./local-pipeline.js');
  const { pipeline } = await localPipeline(
    { playbooks: options.playbooks, ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }), ...(options.region === undefined ? {} : { region: options.region }) },
    io.stderr,
    { readOnly: true },
  );
  const results: Array<{ origin: string; result: PipelineResult }> = [];
  const blocks: string[] = [];
  let failed = false;
  let unreadable = false;
  for await (const item of items) {
    if ('error' in item) {
      unreadable = true;
      blocks.push(terminalLines([`unreadable ${item.origin}: ${item.error}`]));
      continue;
    }
    const result = await pipeline.handleEvent(eventOfRawFinding(item.value, item.origin), { dryRun: true });
    results.push({ origin: item.origin, result });
    if (result.error !== undefined || result.rejected.length > 0) unreadable = true;
    if (result.error !== undefined) blocks.push(terminalLines([`unreadable ${item.origin}: ${result.error.name}: ${result.error.message}`]));
    for (const finding of result.findings) {
      blocks.push(terminalLines([`${finding.findingId} (${finding.account} ${finding.region}) ${finding.title}`]));
      if (finding.skipped !== undefined) blocks.push(terminalLines([`  skipped: ${finding.skipped.reason}`]));
      if (finding.skipped === undefined && finding.runs.length === 0) blocks.push('  no playbook matches');
      for (const run of finding.runs) {
        blocks.push(describeRun(run));
        for (const step of run.steps.filter((record) => record.phase === 'plan')) {
          for (const change of step.changes) blocks.push(terminalLines([`      would change ${change.field}: ${JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`]));
        }
      }
      failed ||= finding.runs.some((run) => run.status === 'failed') || finding.error !== undefined;
    }
  }
  io.stdout.write(options.json === true ? `${JSON.stringify({ live: results }, null, 2)}\n` : `${blocks.join('\n')}\n`);
  if (unreadable) io.exitCode = ExitCode.BadInput;
  if (failed) io.exitCode = ExitCode.Failed;
}

/**
 * `riposte plan --event FILE|DIR|-`: what the playbooks would do to the
 * findings given — one event, or a shadow replay of many (exported events,
 * bare ASFF or OCSF findings, NDJSON) — decided offline: intake, matching
 * and the guards that depend on the finding alone (src/pipeline/shadow-plan.ts).
 * Nothing is read from or written to AWS.
 */
export function registerPlanCommand(program: Command, io: CommandIo): void {
  program
    .command('plan')
    .description('what the playbooks would do to findings, offline: one event, or a shadow replay of many (events or bare ASFF/OCSF findings, NDJSON)')
    .addOption(new Option('--event <source>', 'an event or findings file (JSON, a list, NDJSON), a directory of them, or - for standard input').conflicts('fromSecurityHub'))
    .option('--from-security-hub', 'read the findings from Security Hub (GetFindings, paginated at its 3 requests a second; read-only permissions)')
    .option(
      '--filter <Field=Value>',
      'with --from-security-hub: a GetFindings string filter, e.g. ComplianceStatus=FAILED, ProductName=GuardDuty (repeatable; a field given twice matches either)',
      filterPair,
      [] as string[],
    )
    .option('--since <when>', 'with --from-security-hub: findings updated since an ISO 8601 time or a duration back from now (24h, 30d)', (value: string) => parseSince(value))
    .option('--limit <count>', 'with --from-security-hub: stop after this many findings', positiveCount)
    .option('--region <region>', 'with --from-security-hub or --live: the home region (default AWS_REGION; the aggregation region holds every linked region’s findings)', region)
    .option('--endpoint <url>', 'with --from-security-hub or --live: an endpoint to use instead of AWS (the emulator)', endpoint)
    .option('--playbooks <path>', 'playbook file or directory', 'playbooks')
    .option('--automatic <mode>', 'replay as a deployment with this automatic setting: off, plan or enforce ("what if it were turned on")', 'enforce')
    .option('--exclude-account <id>', 'an account the deployment excludes (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--live', 'also read each target’s current state (AWS credentials, or --endpoint) and show what each step would change; writes nothing to AWS')
    .option('--details', `print every finding (by default only when there are at most ${DETAILED_UP_TO})`)
    .option('--json', 'print every finding, the unreadable inputs and the summary as one JSON document')
    .action(async (options: PlanOptions) => {
      if ((options.event === undefined) === (options.fromSecurityHub !== true)) {
        io.stderr.write('error: give --event <source> or --from-security-hub (one of them)\n');
        io.exitCode = ExitCode.BadInput;
        return;
      }
      if (!['off', 'plan', 'enforce'].includes(options.automatic)) {
        io.stderr.write(`error: --automatic must be off, plan or enforce (got ${JSON.stringify(options.automatic.slice(0, 40))})\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      const { playbooks, problems } = await loadPlaybooks(options.playbooks);
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      const matcher = new IndexedMatcher(playbooks);
      const settings = { automatic: options.automatic, excludedAccounts: options.excludeAccount, now: new Date() };
      const tally = new ReplayTally();
      const planned: ShadowFinding[] = [];
      const unreadable: Unreadable[] = [];
      const progress = isTerminal(io.stderr) && options.json !== true;
      let count = 0;
      const items =
        options.event !== undefined
          ? replayItems(options.event, io.stdin)
          : securityHubItems({
              filters: options.filter,
              ...(options.since === undefined ? {} : { since: options.since }),
              ...(options.region === undefined ? {} : { region: options.region }),
              ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
              ...(options.limit === undefined ? {} : { limit: options.limit }),
            });
      if (options.live === true) {
        await livePlan(items, options, io);
        return;
      }
      for await (const item of items) {
        if ('error' in item) {
          unreadable.push(item);
          tally.reject(1);
          continue;
        }
        let findings;
        try {
          const intake = readEvent(eventOfRawFinding(item.value, item.origin), { origin: item.origin });
          findings = intake.findings;
          for (const rejected of intake.rejected) unreadable.push({ origin: item.origin, error: `${rejected.name}: ${rejected.message}` });
          tally.reject(intake.rejected);
        } catch (error) {
          if (!(error instanceof IntakeError)) throw error;
          unreadable.push({ origin: item.origin, error: `${error.name}: ${error.message}` });
          tally.reject(1);
          continue;
        }
        for (const finding of findings) {
          const shadow = await shadowPlan(finding, matcher, settings);
          tally.add(shadow);
          planned.push(shadow);
          count += 1;
          if (progress && count % 250 === 0) io.stderr.write(`\rplanned ${count} findings…`);
        }
      }
      if (progress && count >= 250) io.stderr.write('\r\u001b[K');
      const summary = tally.summary();
      if (options.json === true) {
        io.stdout.write(`${JSON.stringify({ automatic: options.automatic, findings: planned, unreadable, summary }, null, 2)}\n`);
      } else {
        const blocks: string[] = [];
        if (options.details === true || planned.length <= DETAILED_UP_TO) for (const shadow of planned) blocks.push(terminalLines(describeShadow(shadow)), '');
        blocks.push(terminalLines(describeSummary(summary, options.automatic, unreadable)));
        io.stdout.write(`${blocks.join('\n')}\n`);
      }
      if (unreadable.length > 0) io.exitCode = ExitCode.BadInput;
    });
}
