import type { Command } from 'commander';

import { formatProblem, loadPlaybooks } from '../playbooks/index.js';
import type { CommandIo } from './io.js';

/**
 * `riposte validate [path]`: compiles every playbook under `path` (default
 * `playbooks/`) and prints every problem as file:line:column. Exits 1 when
 * there is any.
 */
export function registerValidateCommand(program: Command, io: CommandIo): void {
  program
    .command('validate')
    .description('check playbooks: schema, match fields and types, actions and parameters, custom actions')
    .argument('[path]', 'playbook file or directory', 'playbooks')
    .option('--verbose', 'also print each playbook’s triggers, event patterns and permissions')
    .action(async (path: string, options: { verbose?: boolean }) => {
      const { playbooks, problems } = await loadPlaybooks(path);
      for (const problem of problems) io.stderr.write(`${formatProblem(problem)}\n`);
      if (options.verbose === true) {
        for (const compiled of playbooks) {
          const { playbook } = compiled;
          const triggers = [
            playbook.triggers.automatic ? 'automatic' : undefined,
            playbook.triggers.customAction === undefined ? undefined : `custom action ${playbook.triggers.customAction.id}`,
            playbook.triggers.api ? 'api' : undefined,
          ].filter(Boolean);
          io.stdout.write(`${playbook.id} (${compiled.source.file}:${compiled.source.line}): ${triggers.join(', ')}; ${playbook.steps.length} steps\n`);
          io.stdout.write(`  member-account permissions: ${compiled.permissions.member.join(' ') || 'none'}\n`);
          io.stdout.write(`  event patterns: ${JSON.stringify(compiled.eventPatterns)}\n`);
        }
      }
      if (problems.length > 0) {
        io.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
        io.exitCode = 1;
      } else {
        io.stdout.write(`${playbooks.length} playbook${playbooks.length === 1 ? '' : 's'} valid\n`);
      }
    });
}
