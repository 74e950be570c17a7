import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { EmulatorStartError } from './errors.js';

const EMULATOR_COMMAND = 'moto_server';
/**
 * moto's server with the Security Hub operations moto 5.2.1 lacks (docs/emulator.md). It ships
 * beside this file and runs under the interpreter that has moto.
 */
const LAUNCHER_SCRIPT = fileURLToPath(new URL('./moto_riposte.py', import.meta.url));
const INSTALL_HINT = 'install it with: pip install "moto[server]" (moto 5), then make sure `moto_server` is on the PATH';

export interface Emulator {
  /** e.g. `http://127.0.0.1:43117`; pass it as the client factory's endpoint. */
  readonly endpoint: string;
  readonly pid: number;
  /** Clears every emulated account's state (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the process; safe to call more than once. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  readonly host?: string;
  /** How long to wait for the first answer. moto answers in ~0.3 s here. */
  readonly startTimeoutMs?: number;
  /** Where to look for `moto_server`; defaults to the PATH. */
  readonly searchPath?: string;
}

async function findOnPath(command: string, pathVariable = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const directory of pathVariable.split(delimiter).filter(Boolean)) {
    const candidate = join(directory, command);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The Python that runs `moto_server`, so the launcher imports the same moto: the interpreter
 * named by its `#!` line (pip and venv scripts), else the `python3` beside it (a pyenv shim
 * directory holds both), else the `python3` on the PATH.
 */
async function motoInterpreterCandidate(motoServer: string, pathVariable: string | undefined): Promise<string> {
  let firstLine: string;
  const file = await open(motoServer, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(256), 0, 256, 0);
    firstLine = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
  } finally {
    await file.close();
  }
  const shebang = /^#!\s*(\S*python[\d.]*)\s*$/.exec(firstLine)?.[1];
  const candidates = [shebang, join(dirname(motoServer), 'python3')].filter((candidate): candidate is string => candidate !== undefined);
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  const onPath = await findOnPath('python3', pathVariable);
  if (onPath === undefined) throw new EmulatorStartError(`no Python interpreter found for ${motoServer}; ${INSTALL_HINT}`);
  return onPath;
}

const interpreters = new Map<string, Promise<string>>();

/**
 * {@link motoInterpreterCandidate}, resolved once per process to the binary itself: a pyenv
 * shim costs about 0.3 s of bash at every start, and the test setup starts several emulators.
 */
function motoInterpreter(motoServer: string, pathVariable: string | undefined): Promise<string> {
  const key = `${motoServer}\0${pathVariable ?? ''}`;
  let resolved = interpreters.get(key);
  if (resolved === undefined) {
    resolved = motoInterpreterCandidate(motoServer, pathVariable).then(
      (candidate) =>
        new Promise<string>((resolve) => {
          execFile(candidate, ['-c', 'import sys; print(sys.executable)'], { timeout: 20_000 }, (error, stdout) => {
            const executable = stdout.trim();
            resolve(error === null && executable !== '' ? executable : candidate);
          });
        }),
    );
    resolved.catch(() => interpreters.delete(key));
    interpreters.set(key, resolved);
  }
  return resolved;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the OS assigned'));
      });
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmulatorStartError(
        `${EMULATOR_COMMAND} exited (${child.exitCode ?? child.signalCode}) before answering at ${endpoint}: ${output().slice(-800) || 'no output'}\nIf moto is not installed, ${INSTALL_HINT}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new EmulatorStartError(`${EMULATOR_COMMAND} did not answer at ${endpoint} within ${timeoutMs} ms: ${output().slice(-800)}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Started unref'd (it must not keep a finished process alive); waiting for its exit must: else, once the SIGKILL
  // timer has fired, nothing holds the event loop and Node exits (code 13) before the exit event arrives.
  child.ref();
  // The process runs in its own group (detached), so this also ends anything it forked.
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      child.kill(signal);
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts moto's server, with the Security Hub additions of `moto_riposte.py`,
 * on a free loopback port and waits until it answers. Used by the test
 * harness and by `riposte demo`.
 *
 * @throws EmulatorStartError saying how to install moto when it is missing.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const executable = await findOnPath(EMULATOR_COMMAND, options.searchPath);
  if (executable === undefined) {
    throw new EmulatorStartError(`${EMULATOR_COMMAND} was not found on the PATH; ${INSTALL_HINT}`);
  }
  const python = await motoInterpreter(executable, options.searchPath);

  // A port found free can be taken before moto binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort(host);
    const endpoint = `http://${host}:${port}`;
    const child = spawn(python, [LAUNCHER_SCRIPT, '-H', host, '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      // moto otherwise loads its catalogue of public AMIs into every account and region it meets (after each
      // reset too): over 40% of the emulator's CPU in the test suite. Riposte launches from any image id
      // (moto does not validate them unless MOTO_ENABLE_AMI_VALIDATION is set) and never lists images.
      // PYTHONDONTWRITEBYTECODE: the launcher is imported from the repository, which must not gain a __pycache__.
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' },
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      // Keep only the tail: moto logs every request.
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const killOnExit = (): void => {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    process.once('exit', killOnExit);

    try {
      await waitUntilAnswering(endpoint, child, () => output, options.startTimeoutMs ?? 20_000);
    } catch (error) {
      lastError = error;
      process.removeListener('exit', killOnExit);
      await stopProcess(child);
      continue;
    }
    // Keep draining moto's request log (closing the pipe would break its
    // writes), but do not let the pipes keep this process alive.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();

    return {
      endpoint,
      pid: child.pid as number,
      async reset() {
        const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        await response.body?.cancel();
        if (!response.ok) throw new EmulatorStartError(`resetting the emulator at ${endpoint} failed: HTTP ${response.status}`);
      },
      async stop() {
        process.removeListener('exit', killOnExit);
        await stopProcess(child);
      },
    };
  }
  throw lastError instanceof Error ? lastError : new EmulatorStartError(`${EMULATOR_COMMAND} could not be started`, lastError);
}
