#!/usr/bin/env node
// `npx riposte …` from a checkout: runs the TypeScript CLI in this process,
// with tsx's loader registered (`tsx/cli` would start a second Node process).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
