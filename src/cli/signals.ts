import { constants } from 'node:os';

/** The signals that end a CLI run from outside: Ctrl-C, `kill`, a closed terminal. */
export const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ends the process on SIGINT, SIGTERM or SIGHUP as the signal's default
 * action would (the parent sees it killed by that very signal), but only
 * after the process's `exit` hooks have run. Node's default action skips
 * them, and the one that matters is the emulator's: `riposte demo` starts
 * moto_server in a process group of its own (no terminal signal reaches
 * it), and only its `exit` hook stops it. Without this, a SIGTERM ended the
 * CLI and left moto_server running.
 *
 * `bin/riposte.js` runs the CLI in its own process (no second Node process
 * to forward signals to): its children are what this ends.
 */
export function endOnSignals(): void {
  for (const signal of ENDING_SIGNALS) {
    process.once(signal, () => {
      // Back to the default action for every ending signal: a second one ends the process at once.
      for (const other of ENDING_SIGNALS) process.removeAllListeners(other);
      // The last exit hook (added after every other): die by the signal itself, the emulator's hook having run.
      process.once('exit', () => process.kill(process.pid, signal));
      process.exit(128 + constants.signals[signal]);
    });
  }
}
