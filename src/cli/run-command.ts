import type { Command } from 'commander';

import { readTextFile, readTextStream, type ReadLimits } from '../files.js';
import { MAX_EVENT_TEXT_BYTES } from '../intake/index.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';
import { anyFailed, describeRun, localPipeline, pipelineOptions, type PipelineCommandOptions } from './local-pipeline.js';

const EVENT_FILE_LIMITS: ReadLimits = { maxBytes: MAX_EVENT_TEXT_BYTES, what: 'an event file' };

interface RunOptions extends PipelineCommandOptions {
  readonly event: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/**
 * `riposte run --event FILE|-`: the whole pipeline on one event, as the
 * findings function runs it — intake, matching, guards, plan, changes,
 * verification, the finding's update and the notification — against AWS (or
 * `--endpoint`). Whether it changes anything follows the deployment's rules:
 * an automatic event under `RIPOSTE_AUTOMATIC` (default plan), a custom
 * action or API request enforcing; `--dry-run` plans whatever the event.
 */
export function registerRunCommand(program: Command, io: CommandIo): void {
  pipelineOptions(
    program
      .command('run')
      .description('run the pipeline on one event (against AWS, or --endpoint), as the findings function does')
      .requiredOption('--event <file>', 'event JSON file, or - for standard input')
      .option('--dry-run', 'plan only: read live state, change nothing')
      .option('--automatic <mode>', 'off, plan or enforce for automatic events (default RIPOSTE_AUTOMATIC, else plan)')
      .option('--json', 'print the pipeline result as JSON'),
  ).action(async (options: RunOptions) => {
    const text = options.event === '-' ? await readTextStream(io.stdin, 'standard input', { ...EVENT_FILE_LIMITS, what: 'an event' }) : await readTextFile(options.event, EVENT_FILE_LIMITS);
    const { pipeline } = await localPipeline(options, io.stderr);
    const result = await pipeline.handleEvent(text, { ...(options.dryRun === true ? { dryRun: true } : {}) });
    const runs = result.findings.flatMap((finding) => finding.runs);
    if (options.json === true) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const blocks: string[] = [];
      if (result.error !== undefined) blocks.push(terminalLines([`${result.error.name}: ${result.error.message}`]));
      for (const finding of result.findings) {
        blocks.push(terminalLines([`${finding.findingId} (${finding.account} ${finding.region}) ${finding.title}`]));
        if (finding.skipped !== undefined) blocks.push(terminalLines([`  skipped: ${finding.skipped.reason}`]));
        if (finding.error !== undefined) blocks.push(terminalLines([`  error: ${finding.error.name}: ${finding.error.message}`]));
        if (finding.skipped === undefined && finding.error === undefined && finding.runs.length === 0) blocks.push('  no playbook matches');
        for (const run of finding.runs) blocks.push(describeRun(run));
      }
      for (const rejected of result.rejected) blocks.push(terminalLines([`rejected: ${rejected.name}: ${rejected.message}`]));
      io.stdout.write(`${blocks.join('\n')}\n`);
    }
    if (result.error !== undefined || result.rejected.length > 0) io.exitCode = ExitCode.BadInput;
    if (anyFailed(runs) || result.findings.some((finding) => finding.error !== undefined)) io.exitCode = ExitCode.Failed;
  });
}
