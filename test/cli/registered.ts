import { Readable } from 'node:stream';

import { Command, CommanderError } from 'commander';

import { ExitCode, type CommandIo } from '../../src/cli/io.js';
import { neutralise } from '../../src/neutralise.js';
import type { CliResult } from './run-cli.js';

/** A command's registration, as src/cli/program.ts's table loads it. */
export type Register = (program: Command, io: CommandIo) => void;

/**
 * `riposte …args` for one command, registered on a program built as
 * `runCli` builds it (exitOverride, output to the given streams, usage
 * errors neutralised): help exits 0 and a usage error 2, as there. Any other
 * error the command throws is thrown here, for the test to name; `runCli`
 * prints it and exits 2 for a bad input's typed error (a
 * PlaybookCompileError, a LocalFileError), 1 for the rest.
 */
export async function runRegistered(register: Register, args: readonly string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([stdin]),
    exitCode: ExitCode.Ok,
  };
  const program = new Command()
    .name('riposte')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text.split('\n').map(neutralise).join('\n')) });
  register(program, io);
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { status: error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput, stdout, stderr };
  }
  return { status: io.exitCode, stdout, stderr };
}
