import type { Readable } from 'node:stream';

/** Where a command writes text: the process's stdout or stderr, or a buffer in tests. */
export interface TextOutput {
  write(text: string): unknown;
}

/** The streams one CLI run reads and writes. */
export interface CliStreams {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** What `riposte intake -` reads. */
  readonly stdin: Readable;
}

/** A command's streams, and the exit code it reports: 0 unless the command sets another. */
export interface CommandIo extends CliStreams {
  exitCode: number;
}

/** Exit codes (README, "CLI"): 0 ok; 1 a remediation (or the command's own work) failed; 2 bad input or usage (an unknown command, an unreadable file, an invalid playbook or event). */
export const ExitCode = { Ok: 0, Failed: 1, BadInput: 2 } as const;
