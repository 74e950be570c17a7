import { runCli } from './program.js';
import { endOnSignals } from './signals.js';

// The SDK warns once per process that releases after January 2027 need
// Node 22. Lambda runs Riposte on nodejs22.x; on a Node 20 workstation the
// warning is known and only clutters the output, so it alone is dropped.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!warning.message.includes('NodeVersionSupportWarning') && warning.name !== 'NodeVersionSupportWarning') {
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  }
});

endOnSignals();

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
