#!/usr/bin/env node
// Builds the `riposte` CLI that bin/riposte.js runs: one ES module bundle of
// src/cli/main.ts in dist/cli/, split at each command's dynamic imports, so
// `riposte --help` loads commander and the command list, and each command
// loads only what it uses (validate: the playbook compiler; demo: the SDK
// clients and the emulator launcher).
//
// `npm ci` runs it (the `prepare` script) and `npm test` runs it first, so
// the CLI the subprocess tests start is the one the sources describe. Where
// esbuild is not installed (`npm ci --omit=dev`: a deployment needs no CLI),
// it says so and leaves bin/riposte.js to run the sources through tsx.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('riposte: esbuild is not installed (npm ci --omit=dev?): the CLI is not compiled; bin/riposte.js needs `npm ci` to run\n');
  process.exit(0);
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const { metafile } = await esbuild.build({
  metafile: true,
  entryPoints: { riposte: join(root, 'src', 'cli', 'main.ts') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  // The dependencies that are CommonJS (json-rules-engine, commander…) call `require`: give the ES module one.
  banner: { js: "import { createRequire as __riposteRequire } from 'node:module'; const require = __riposteRequire(import.meta.url);" },
  // The SDK schemas' computed keys made literal, as for the Lambda bundles: unused schemas drop out.
  // Not the Lambda-only credential chain: the CLI keeps the SDK's (profiles, SSO, roles).
  plugins: [createRequire(import.meta.url)(join(root, 'deploy', 'esbuild-plugins.cjs')).sdkSchemaLiteralKeys],
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
if (process.argv.includes('--metafile')) process.stdout.write(JSON.stringify(metafile));
// The emulator launcher is Python, found beside the module that starts it (src/emulator/launcher.ts).
await copyFile(join(root, 'src', 'emulator', 'moto_riposte.py'), join(out, 'moto_riposte.py'));
