#!/usr/bin/env node
// `npx riposte …` from a checkout: runs the TypeScript CLI in this process,
// with tsx's loader registered (`tsx/cli` would start a second Node process).
// Being one process, there is no child Node process to forward signals to:
// the CLI itself ends on SIGINT, SIGTERM and SIGHUP through its exit hooks,
// which stop what it started (the demo's moto_server), then dies by the
// signal (src/cli/signals.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
