import { Option, type Command } from 'commander';

import { neutralise, neutraliseJson } from '../neutralise.js';
import { ExitCode, type CommandIo } from './io.js';
import { addLedgerOptions, DEFAULT_LEDGER_DIRECTORY, openLedger, type LedgerOptions } from './ledger-option.js';
import { parseSince } from './since.js';
import { describeRunList, describeTimeline } from './timeline.js';

interface RunsOptions extends LedgerOptions {
  readonly id?: string;
  readonly since?: Date;
  readonly json?: boolean;
}

/**
 * `riposte runs`: lists the runs a ledger holds, newest first, or shows one
 * (`--id`) as a timeline to attach to a ticket. Reads the file ledger of
 * local runs unless `--table` names a deployment's DynamoDB table. An
 * unknown run id is bad input (exit 2).
 */
export function registerRunsCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('runs')
    .description('list the runs in the ledger, newest first, or show one (--id) as a timeline: trigger, steps and what they changed, evidence, verification, finding update, outcome')
    .option('--id <run-id>', 'show this run as a timeline')
    .addOption(new Option('--since <when>', 'only runs started since: an ISO 8601 time or a duration back from now (90m, 24h, 7d, 2w)').argParser((value: string) => parseSince(value)).conflicts('id'))
    .option('--json', '--id: the run record as the ledger stores it, with findingUpdate; else an array of run summaries')
    .addHelpText('after', `\nWithout --table, the file ledger in ${DEFAULT_LEDGER_DIRECTORY} (under the working directory) is read, or the directory --ledger names.`);
  addLedgerOptions(command).action(async (options: RunsOptions, self: Command) => {
    const ledger = await openLedger(options, self);
    if (options.id === undefined) {
      const runs = await ledger.listRuns(options.since === undefined ? {} : { since: options.since });
      io.stdout.write(options.json === true ? `${neutraliseJson(JSON.stringify(runs, null, 2))}\n` : `${describeRunList(runs)}\n`);
      return;
    }
    const run = await ledger.getRun(options.id);
    if (run === undefined) {
      io.stderr.write(
        `${neutralise(`no run ${options.id} in ${options.table === undefined ? `the file ledger ${options.ledger ?? DEFAULT_LEDGER_DIRECTORY}` : `the DynamoDB table ${options.table}`} (riposte runs lists the runs it holds)`)}\n`,
      );
      io.exitCode = ExitCode.BadInput;
      return;
    }
    // Read as the API's GET /runs/{id} reads it: a record retry may have settled the finding update after the run ended.
    const { findingRecordStatus } = await import('../pipeline/index.js');
    const findingUpdate = await findingRecordStatus(ledger, run.runId);
    if (options.json === true) {
      io.stdout.write(`${neutraliseJson(JSON.stringify({ run, ...(findingUpdate === undefined ? {} : { findingUpdate }) }, null, 2))}\n`);
    } else {
      io.stdout.write(`${describeTimeline(run, findingUpdate)}\n`);
    }
  });
}
