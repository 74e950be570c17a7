import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join, relative } from 'node:path';

import { EmulatorStartError } from '../../emulator/index.js';

/** What the demo's emulator runs on: moto 5, whose server the launcher finds on the PATH. */
export const MOTO_REQUIREMENT = 'moto[server]>=5,<6';

/** Where the demo installs moto when the machine has none: inside the project (`.riposte/` is ignored by git). */
export const MOTO_VENV = join('.riposte', 'moto-venv');

/** What the demo found on this machine. */
export interface MotoProbe {
  /** `moto_server` on the PATH. */
  readonly onPath: boolean;
  /** `moto_server` in the project's own virtual environment (an earlier demo installed it). */
  readonly inVenv: boolean;
  /** `python3` on the PATH, if any. */
  readonly python3?: string;
}

/** How the demo gets its emulator: the PATH as it is, or with the project's virtual environment first (installing moto there first when `install` is set). */
export type MotoSetup =
  | { readonly kind: 'path' }
  | { readonly kind: 'venv'; readonly searchPath: string }
  | { readonly kind: 'install'; readonly searchPath: string; readonly commands: ReadonlyArray<readonly string[]>; readonly message: string };

/** A command as a person would type it (arguments with shell characters quoted). */
export const shellCommand = (command: readonly string[]): string => command.map((part) => (/^[\w./=:-]+$/.test(part) ? part : `'${part.replaceAll("'", `'\\''`)}'`)).join(' ');

/** The commands that install moto 5 into `venv` with `python3`. */
export function motoInstallCommands(python3: string, venv: string): string[][] {
  return [
    [python3, '-m', 'venv', venv],
    [join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', MOTO_REQUIREMENT],
  ];
}

/**
 * The demo's choice, as one function of what the machine has: moto_server
 * on the PATH is used as it is; else one installed by an earlier demo in
 * the project's virtual environment; else, with python3, moto 5 is
 * installed there (and the demo says so); else nothing can work, and the
 * error gives the exact command to run.
 *
 * @param root the project's directory (the virtual environment's is `root/.riposte/moto-venv`).
 * @throws EmulatorStartError when there is neither moto_server nor python3.
 */
export function motoSetupFor(probe: MotoProbe, root: string, pathVariable: string): MotoSetup {
  if (probe.onPath) return { kind: 'path' };
  const venv = join(root, MOTO_VENV);
  const searchPath = [join(venv, 'bin'), pathVariable].filter((part) => part !== '').join(delimiter);
  if (probe.inVenv) return { kind: 'venv', searchPath };
  if (probe.python3 === undefined) {
    throw new EmulatorStartError(
      `moto_server was not found on the PATH, and there is no python3 to install it with. Install Python 3, then run: python3 -m pip install '${MOTO_REQUIREMENT}' (or run npm run demo again: with python3 present it installs moto into ${MOTO_VENV})`,
    );
  }
  const commands = motoInstallCommands('python3', venv);
  return {
    kind: 'install',
    searchPath,
    commands: motoInstallCommands(probe.python3, venv),
    message: `moto_server was not found on the PATH: installing moto 5 into ${relative(root, venv)} (a virtual environment of this project), once: ${commands.map((command) => shellCommand(command.map((part) => (part.startsWith(root) ? relative(root, part) : part)))).join(' && ')}`,
  };
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string, pathVariable: string): Promise<string | undefined> {
  for (const directory of pathVariable.split(delimiter).filter(Boolean)) {
    if (await executable(join(directory, command))) return join(directory, command);
  }
  return undefined;
}

/** What this machine has (see {@link motoSetupFor}). */
export async function probeMoto(root: string, pathVariable: string): Promise<MotoProbe> {
  const python3 = await onPath('python3', pathVariable);
  return {
    onPath: (await onPath('moto_server', pathVariable)) !== undefined,
    inVenv: await executable(join(root, MOTO_VENV, 'bin', 'moto_server')),
    ...(python3 === undefined ? {} : { python3 }),
  };
}

/** Runs the install commands in turn, their output to `log`; the first that fails stops it with the commands to run by hand. */
export async function installMoto(commands: ReadonlyArray<readonly string[]>, cwd: string, log: (text: string) => void): Promise<void> {
  for (const command of commands) {
    const [file, ...args] = command;
    const status = await new Promise<number | string>((resolve) => {
      const child = spawn(file as string, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
      child.on('error', (error) => resolve(error.message));
      child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    if (status !== 0) {
      throw new EmulatorStartError(`installing moto failed (${shellCommand(command)} ended with ${status}); run by hand: ${commands.map((each) => shellCommand(each)).join(' && ')}`);
    }
  }
}
