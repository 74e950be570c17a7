#!/usr/bin/env node
// The static checks `npm test` runs beside the tests (scripts/test.mjs):
// types, lint, format and the layer rule.
//
// - Types and lint share one TypeScript program: `tsc --noEmit` and
//   typescript-eslint's type-checked rules would otherwise each build and
//   check the whole program (measured here: 38 CPU-s together instead of 50
//   apart). The program is built from tsconfig.json as tsc builds it, and
//   handed to ESLint through typescript-eslint's documented `programs` option.
// - Format and layers run beside them, in their own processes.
//
// Each check's report is printed as one block once it ends, so the blocks
// never interleave; the exit code is 1 when any of them failed.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const seconds = (started) => (Date.now() - started) / 1000;

/** `tsc --noEmit`, then ESLint with type information from the same program. */
async function typesAndLint() {
  const started = Date.now();
  const host = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, host);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
  const types = {
    name: 'types (tsc)',
    ok: diagnostics.length === 0,
    output: ts.formatDiagnosticsWithColorAndContext(diagnostics, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => root, getNewLine: () => '\n' }),
    seconds: seconds(started),
  };

  const lintStarted = Date.now();
  // Only TypeScript files are in the program; the JavaScript ones keep the syntax-only rules eslint.config.js gives them.
  const eslint = new ESLint({ cwd: root, overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, programs: [program] } } }] });
  const results = await eslint.lintFiles(['.']);
  const formatter = await eslint.loadFormatter('stylish');
  const lint = {
    name: 'lint (eslint)',
    ok: results.every((result) => result.errorCount === 0 && result.warningCount === 0),
    output: await formatter.format(results),
    seconds: seconds(lintStarted),
  };
  return [types, lint];
}

/** A check in a process of its own. */
function run(name, command, args) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve([{ name, ok: false, output: `${error.message}\n`, seconds: seconds(started) }]));
    child.on('close', (code) => resolve([{ name, ok: code === 0, output, seconds: seconds(started) }]));
  });
}

const results = (
  await Promise.all([
    typesAndLint().catch((error) => [{ name: 'types and lint', ok: false, output: `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, seconds: 0 }]),
    run('format (prettier)', bin('prettier'), ['--check', '--log-level', 'warn', '.']),
    run('layers (dependency-cruiser)', bin('depcruise'), ['src', 'handlers', 'deploy', 'test', 'bench', '--config', '.dependency-cruiser.cjs', '-T', 'err-long']),
  ])
).flat();
for (const { name, ok, output, seconds: took } of results) {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name} (${took.toFixed(1)} s)\n`);
  if (!ok) process.stdout.write(`${output.trimEnd()}\n\n`);
}
process.exitCode = results.every((result) => result.ok) ? 0 : 1;
