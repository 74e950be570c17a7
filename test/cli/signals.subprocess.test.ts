import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

/*
 * `riposte demo` starts the emulator (moto's server through the project's
 * launcher, src/emulator/moto_riposte.py) in a process group of its own. Sent
 * SIGTERM, the CLI must stop it before it ends, and end by that signal.
 * Nothing here waits a fixed time: each wait polls until what it waits for
 * is true, and only the test's own timeout (sized for a loaded 2-core
 * machine, as the demo's) bounds it.
 */
const TIMEOUT_MS = 120_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The process's state letter from /proc (`Z` for a zombie), or undefined once it is gone. */
function state(pid: number): string | undefined {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): Array<{ pid: number; command: string }> {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === pid ? [{ pid: Number(name), command: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ') }] : [];
      } catch {
        return [];
      }
    });
}

async function until<T>(read: () => T | undefined): Promise<T> {
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    await sleep(100);
  }
}

describe.runIf(existsSync('/proc/self/stat'))('riposte, sent a signal', () => {
  it(
    'demo, sent SIGTERM once its emulator runs: stops moto_server, then ends by SIGTERM',
    async ({ signal }) => {
      const child = spawn(process.execPath, [join(root, 'bin', 'riposte.js'), 'demo'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.resume();
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, by) => resolve({ code, signal: by })));

      await until(() => (stdout.includes('Emulator at') ? true : undefined));
      const moto = await until(() => childrenOf(child.pid as number).find((process) => /moto_server|moto_riposte\.py/.test(process.command)));
      const running = (): boolean => state(moto.pid) !== undefined && state(moto.pid) !== 'Z';
      expect(running()).toBe(true);
      try {
        child.kill('SIGTERM');

        expect(await ended).toEqual({ code: null, signal: 'SIGTERM' });
        // Gone, or a zombie its new parent has not reaped yet: either way it no longer runs. The CLI has
        // ended, so this is a matter of milliseconds; 30 s only lets the test fail (and clean up) rather than hang.
        for (let waited = 0; running() && waited < 30_000; waited += 100) await sleep(100);
        expect(running(), `moto_server (pid ${moto.pid}) still runs after the CLI ended`).toBe(false);
      } finally {
        // Should this fail, the emulator it left is this test's to end (its own process group).
        if (running()) process.kill(-moto.pid, 'SIGKILL');
      }
    },
    TIMEOUT_MS,
  );
});
