#!/usr/bin/env node
// `npm test`: the CLI build, then the static checks (scripts/check.mjs) and
// the vitest projects side by side.
//
// Why side by side: on a 2-core machine the checks are pure CPU for about a
// minute, while the test run leaves part of a core idle whenever its tests
// wait (for a resource lease, a queue's delay, the emulator's serial proxy).
// Run one after the other, that idle core was wasted; run together, the
// checks take it. The checks' report is printed as one block after the
// tests' own (it never interleaves with vitest's output), and the exit code
// is 1 when either failed. Arguments go to vitest: `npm test -- <file>`.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children = new Set();

/** Runs `script` with this Node; resolves with its exit code and, when `capture`, its output. */
function run(args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    children.add(child);
    let output = '';
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
    }
    child.on('error', (error) => {
      children.delete(child);
      resolve({ code: 1, output: `${output}${error.message}\n` });
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? (signal === null ? 1 : 128), output });
    });
  });
}

// Ctrl-C reaches the children through the terminal's process group; a TERM sent to this process alone is passed on.
process.on('SIGTERM', () => {
  for (const child of children) child.kill('SIGTERM');
});

// The subprocess tests start the compiled CLI: it is built first.
const build = await run([join(root, 'scripts', 'build-cli.mjs')]);
if (build.code !== 0) process.exit(build.code);

const [checks, tests] = await Promise.all([run([join(root, 'scripts', 'check.mjs')], { capture: true }), run([join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)])]);

process.stdout.write(`\nStatic checks (scripts/check.mjs):\n${checks.output}`);
if (checks.code !== 0 || tests.code !== 0) {
  process.stdout.write(`\nnpm test failed:${checks.code === 0 ? '' : ' static checks'}${checks.code !== 0 && tests.code !== 0 ? ' and' : ''}${tests.code === 0 ? '' : ' tests'}\n`);
  process.exitCode = 1;
}
