import type { Command } from 'commander';

import { readTextFile, readTextStream, type ReadLimits } from '../files.js';
import { IntakeError, MAX_EVENT_TEXT_BYTES, readApiRequest, readEvent, type IntakeResult } from '../intake/index.js';
import { neutralise } from '../neutralise.js';
import { describeIntakeResult } from './format.js';
import { ExitCode, type CommandIo } from './io.js';

/**
 * The most `riposte intake` reads of a file or of standard input: four
 * times EventBridge's 256 KB, because intake reads an indented event up to
 * that size and holds it to 256 KB as compact JSON, as EventBridge counts it.
 * A FIFO, a device (`/dev/zero`) or anything larger is refused unread.
 */
const EVENT_FILE_LIMITS: ReadLimits = { maxBytes: MAX_EVENT_TEXT_BYTES, what: 'an event file' };

interface IntakeOptions {
  readonly json?: boolean;
  readonly api?: boolean;
  readonly requester?: string;
}

/**
 * `riposte intake <file>`: shows what Riposte reads from an event (or, with
 * `--api`, an on-demand request body) — the findings, and why any were
 * rejected. `-` reads standard input.
 */
export function registerIntakeCommand(program: Command, io: CommandIo): void {
  program
    .command('intake')
    .description('read an EventBridge event (or an on-demand request) and print the findings Riposte sees')
    .argument('<file>', 'event JSON file, or - for standard input')
    .option('--json', 'print the normalized findings as JSON')
    .option('--api', 'the file is an on-demand request body ({ instanceId, account, region, … })')
    .option('--requester <principal>', 'who asks, for --api', process.env.USER ?? 'cli')
    .action(async (file: string, options: IntakeOptions) => {
      const input = file === '-' ? await readTextStream(io.stdin, 'standard input', { ...EVENT_FILE_LIMITS, what: 'an event' }) : await readTextFile(file, EVENT_FILE_LIMITS);
      let result: IntakeResult;
      try {
        result = options.api === true ? readApiRequest(input, { principal: options.requester ?? 'cli' }) : readEvent(input, { origin: file });
      } catch (error) {
        if (!(error instanceof IntakeError)) throw error;
        io.stderr.write(`${error.name}: ${neutralise(error.message)}\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      if (options.json === true) {
        io.stdout.write(`${JSON.stringify({ findings: result.findings, rejected: result.rejected }, null, 2)}\n`);
      } else {
        io.stdout.write(`${describeIntakeResult(result)}\n`);
      }
      if (result.rejected.length > 0) io.exitCode = ExitCode.BadInput;
    });
}
