import { Command } from 'commander';

import { RiposteError } from '../errors.js';
import { registerDemoCommand } from './demo-command.js';
import { registerIntakeCommand } from './intake-command.js';
import { registerRolesCommand } from './roles-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { registerValidateCommand } from './validate-command.js';

// The SDK warns once per process that releases after January 2027 need
// Node 22. Lambda runs Riposte on nodejs22.x; on a Node 20 workstation the
// warning is known and only clutters the output, so it alone is dropped.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!warning.message.includes('NodeVersionSupportWarning') && warning.name !== 'NodeVersionSupportWarning') {
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  }
});

const program = new Command()
  .name('riposte')
  .description('Remediation rules engine for AWS security findings')
  .showHelpAfterError();

registerValidateCommand(program);
registerIntakeCommand(program);
registerSchemaCommand(program);
registerRolesCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof RiposteError ? `${error.name}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}
