import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { runCli } from '../../src/cli/program.js';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `riposte …args` in this process, through the function the CLI runs; `stdin` is what `intake -` reads. */
export async function riposte(args: readonly string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([stdin]),
  });
  return { status, stdout, stderr };
}

/** Sized for a loaded 2-core machine, far beyond any command's idle time: it catches a hang, never a slow machine. */
export const PROCESS_TIMEOUT_MS = 240_000;

export interface ProcessOptions {
  /** What the process reads on standard input. */
  readonly stdin?: string;
  /** Ends the process, e.g. the test's own signal, aborted when the test times out. */
  readonly signal?: AbortSignal;
}

/**
 * `riposte …args` as a user starts it: bin/riposte.js in a new Node process.
 * Only the smoke tests (*.subprocess.test.ts) use it: starting a process
 * that loads the TypeScript sources takes seconds on a loaded machine.
 */
export function riposteProcess(args: readonly string[], { stdin = '', signal }: ProcessOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'riposte.js'), ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      // A hang ends here even without a test's signal; the demo, the slowest command, takes seconds idle.
      timeout: PROCESS_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
