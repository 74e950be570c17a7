import { Command, CommanderError } from 'commander';

import { RiposteError } from '../errors.js';
import { registerDemoCommand } from './demo-command.js';
import { registerIntakeCommand } from './intake-command.js';
import type { CliStreams, CommandIo } from './io.js';
import { registerRolesCommand } from './roles-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { registerValidateCommand } from './validate-command.js';

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
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  registerValidateCommand(program, io);
  registerIntakeCommand(program, io);
  registerSchemaCommand(program, io);
  registerRolesCommand(program, io);
  registerDemoCommand(program, io);

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    // Commander has already written its message (or the help).
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof RiposteError ? `${error.name}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`${message}\n`);
    return 1;
  }
  return io.exitCode;
}
