import type { Command } from 'commander';

import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';
import { describeRun, localPipeline, pipelineOptions, type PipelineCommandOptions } from './local-pipeline.js';

interface RollbackOptions extends PipelineCommandOptions {
  readonly run: string;
  readonly dryRun?: boolean;
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
      .option('--dry-run', 'list what would be undone, from the run’s record: nothing is changed or recorded')
      .option('--json', 'print the rollback run as JSON'),
  ).action(async (options: RollbackOptions) => {
    const { pipeline, principal, ledger } = await localPipeline(options, io.stderr);
    if (options.dryRun === true) {
      const { RollbackRefusedError, RunUnknownError } = await import('../pipeline/index.js');
      const original = await ledger.getRun(options.run);
      if (original === undefined) throw new RunUnknownError(options.run, 'roll it back');
      if (original.rollbackOf !== undefined) throw new RollbackRefusedError(options.run, `it is itself the rollback of run ${original.rollbackOf}`);
      if (original.mode === 'plan') throw new RollbackRefusedError(options.run, 'it was a plan: it changed nothing');
      // The steps the rollback would take back, newest first: what src/pipeline/rollback.ts undoes.
      const undoable = original.steps.filter((step) => step.phase === 'run' && step.status === 'changed' && step.undo !== undefined).reverse();
      const lines = [`run ${original.runId} (${original.playbookId}, ${original.status}): ${undoable.length} change${undoable.length === 1 ? '' : 's'} would be undone`];
      for (const step of undoable) {
        lines.push(`  step ${step.index + 1} ${step.action}: ${step.summary}`);
        for (const change of step.changes) lines.push(`    would restore ${change.field}: ${JSON.stringify(change.to)} -> ${JSON.stringify(change.from)}`);
      }
      if (original.status !== 'succeeded' && original.status !== 'failed') lines.push(`  (the run is ${original.status}: a rollback is refused until it ends)`);
      io.stdout.write(options.json === true ? `${JSON.stringify({ runId: original.runId, steps: undoable }, null, 2)}\n` : `${terminalLines(lines)}\n`);
      return;
    }
    const result = await pipeline.rollback(options.run, { requestedBy: principal, ...(options.reason === undefined ? {} : { reason: options.reason }) });
    io.stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${describeRun(result)}\n`);
    if (result.status === 'failed') io.exitCode = ExitCode.Failed;
  });
}
