import type { Command } from 'commander';

import { ExitCode, type CommandIo } from './io.js';
import { describeRun, localPipeline, pipelineOptions, type PipelineCommandOptions } from './local-pipeline.js';

interface RollbackOptions extends PipelineCommandOptions {
  readonly run: string;
  readonly reason?: string;
  readonly json?: boolean;
}

/**
 * `riposte rollback --run ID`: undoes a run's reversible steps, in reverse
 * order, from what each step recorded it replaced (the ledger's `undo`), as
 * `POST /runs/{id}/rollback` does; the rollback is a run of its own.
 */
export function registerRollbackCommand(program: Command, io: CommandIo): void {
  pipelineOptions(
    program
      .command('rollback')
      .description('undo the reversible steps of a run (from the ledger), as POST /runs/{id}/rollback does')
      .requiredOption('--run <id>', 'the run to roll back (riposte runs lists them)')
      .option('--reason <text>', 'why, recorded in the rollback run')
      .option('--json', 'print the rollback run as JSON'),
  ).action(async (options: RollbackOptions) => {
    const { pipeline, principal } = await localPipeline(options, io.stderr);
    const result = await pipeline.rollback(options.run, { requestedBy: principal, ...(options.reason === undefined ? {} : { reason: options.reason }) });
    io.stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${describeRun(result)}\n`);
    if (result.status === 'failed') io.exitCode = ExitCode.Failed;
  });
}
