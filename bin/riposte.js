#!/usr/bin/env node
// `riposte …`: runs the compiled CLI (dist/cli, built by `npm ci` through the
// `prepare` script, and by `npm test` before the tests: scripts/build-cli.mjs).
// A checkout without it (`npm ci --ignore-scripts`) runs the TypeScript
// sources instead, with tsx's loader registered in this process, and says so.
//
// Either way the CLI runs in this one process: there is no child Node process
// to forward signals to. The CLI itself ends on SIGINT, SIGTERM and SIGHUP
// through its exit hooks, which stop what it started (the demo's
// moto_server), then dies by the signal (src/cli/signals.ts).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('../dist/cli/riposte.mjs', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('riposte: the CLI is not compiled (run `npm run build`); running the sources through tsx, which starts slower\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
