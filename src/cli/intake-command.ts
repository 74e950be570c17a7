import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';

import type { Command } from 'commander';

import { IntakeError, readApiRequest, readEvent, type IntakeResult } from '../intake/index.js';
import { describeIntakeResult } from './format.js';
import type { CommandIo } from './io.js';

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
      const input = file === '-' ? await text(io.stdin) : await readFile(file, 'utf8');
      let result: IntakeResult;
      try {
        result = options.api === true ? readApiRequest(input, { principal: options.requester ?? 'cli' }) : readEvent(input, { origin: file });
      } catch (error) {
        if (!(error instanceof IntakeError)) throw error;
        io.stderr.write(`${error.name}: ${error.message}\n`);
        io.exitCode = 2;
        return;
      }
      if (options.json === true) {
        io.stdout.write(`${JSON.stringify({ findings: result.findings, rejected: result.rejected }, null, 2)}\n`);
      } else {
        io.stdout.write(`${describeIntakeResult(result)}\n`);
      }
      if (result.rejected.length > 0) io.exitCode = 1;
    });
}
