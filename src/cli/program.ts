import { Command, CommanderError } from 'commander';

import { RiposteError } from '../errors.js';
import { neutralise } from '../neutralise.js';
import { formatProblem, PlaybookCompileError } from '../playbooks/index.js';
import { registerDemoCommand } from './demo-command.js';
import { registerForwardersCommand } from './forwarders-command.js';
import { registerIntakeCommand } from './intake-command.js';
import type { CliStreams, CommandIo } from './io.js';
import { registerRolesCommand } from './roles-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { registerValidateCommand } from './validate-command.js';

/**
 * A command's failure as the terminal shows it, every line neutralised
 * (messages quote file names, YAML and findings): a Riposte error as
 * `Name: message` (a playbook error with one problem a line), anything else
 * with its stack frames, since that is a bug to report.
 */
function describeFailure(error: unknown): string {
  if (error instanceof PlaybookCompileError)
    return [`${error.name}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in playbooks`, ...error.problems.map(formatProblem)].map(neutralise).join('\n');
  if (error instanceof RiposteError) return `${error.name}: ${neutralise(error.message)}`;
  if (!(error instanceof Error)) return neutralise(String(error));
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [`${error.name}: ${error.message}`, ...frames].map(neutralise).join('\n');
}

/**
 * Runs one `riposte` command line in this process and returns its exit
 * code. `riposte` itself (main.ts) runs it on the process's streams; tests
 * run it on in-memory ones, so a command is tested without starting a
 * process.
 *
 * ```ts
 * const code = await runCli(['validate', 'playbooks'], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
 * ```
 *
 * @param args the arguments after `riposte`, e.g. `['validate', 'playbooks']`.
 */
export async function runCli(args: readonly string[], streams: CliStreams): Promise<number> {
  const io: CommandIo = { ...streams, exitCode: 0 };
  // exitOverride: commander throws instead of ending the process (help, a
  // usage error); the commands added below inherit it and the output.
  const program = new Command()
    .name('riposte')
    .description('Remediation rules engine for AWS security findings')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Usage errors quote the arguments given: each line of them neutralised.
      writeErr: (text) => io.stderr.write(text.split('\n').map(neutralise).join('\n')),
    });

  registerValidateCommand(program, io);
  registerIntakeCommand(program, io);
  registerSchemaCommand(program, io);
  registerRolesCommand(program, io);
  registerForwardersCommand(program, io);
  registerDemoCommand(program, io);

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    // Commander has already written its message (or the help).
    if (error instanceof CommanderError) return error.exitCode;
    io.stderr.write(`${describeFailure(error)}\n`);
    return 1;
  }
  return io.exitCode;
}
