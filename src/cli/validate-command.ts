import type { Command } from 'commander';

import { neutralise } from '../neutralise.js';
import { API_REQUEST_FIELDS, describeApiMatch, formatBinding, formatProblem, loadPlaybooks } from '../playbooks/index.js';
import { ExitCode, type CommandIo } from './io.js';

/**
 * `riposte validate [path]`: compiles every playbook under `path` (default
 * `playbooks/`) and prints every problem as file:line:column. Exits 2 when
 * there is any (exit 2), and when there is no playbook at all: an empty library
 * would match nothing, which is never what a deployment wants.
 */
export function registerValidateCommand(program: Command, io: CommandIo): void {
  program
    .command('validate')
    .description('check playbooks: schema, match fields and types, actions and parameters, custom actions')
    .argument('[path]', 'playbook file or directory', 'playbooks')
    .option('--verbose', 'also print each playbook’s triggers, event patterns, permissions, the product bindings the compiler added, and what an API playbook’s match requires of an on-demand request')
    .action(async (path: string, options: { verbose?: boolean }) => {
      const { playbooks, problems } = await loadPlaybooks(path);
      // Problems quote the YAML they are about: written one to a line, whatever that YAML holds.
      for (const problem of problems) io.stderr.write(`${neutralise(formatProblem(problem))}\n`);
      if (options.verbose === true) {
        for (const compiled of playbooks) {
          const { playbook } = compiled;
          const triggers = [
            playbook.triggers.automatic ? 'automatic' : undefined,
            playbook.triggers.customAction === undefined ? undefined : `custom action ${playbook.triggers.customAction.id}`,
            playbook.triggers.api ? (playbook.triggers.apiDefault ? 'api (default)' : 'api') : undefined,
          ].filter(Boolean);
          io.stdout.write(`${neutralise(`${playbook.id} (${compiled.source.file}:${compiled.source.line}): ${triggers.join(', ')}; ${playbook.steps.length} steps`)}\n`);
          io.stdout.write(`${neutralise(`  member-account permissions: ${compiled.permissions.member.join(' ') || 'none'}`)}\n`);
          io.stdout.write(`${neutralise(`  event patterns: ${JSON.stringify(compiled.eventPatterns)}`)}\n`);
          // What the compiler added so that only trusted products drive the playbook (src/playbooks/bindings.ts).
          for (const binding of compiled.bindings) io.stdout.write(`${neutralise(`  bound: ${formatBinding(binding)}`)}\n`);
          // What its match asks of an on-demand request, which carries only account, region, partition and the instance (src/playbooks/api-match.ts).
          if (playbook.triggers.api) {
            const requires = compiled.apiMatch === undefined ? 'nothing: it takes a request for any instance' : describeApiMatch(compiled.apiMatch);
            const role = playbook.triggers.apiDefault ? 'the default, run when several take a request that names no playbook' : 'not the default';
            io.stdout.write(`${neutralise(`  on-demand: requires ${requires} (a request carries only ${API_REQUEST_FIELDS.join(', ')}); ${role}`)}\n`);
          }
        }
      }
      if (problems.length > 0) {
        io.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
        io.exitCode = ExitCode.BadInput;
      } else if (playbooks.length === 0) {
        io.stderr.write(`${neutralise(path)}: no playbook found (a library needs at least one .yml or .yaml file holding one): an empty library matches no finding\n`);
        io.exitCode = ExitCode.BadInput;
      } else {
        io.stdout.write(`${playbooks.length} playbook${playbooks.length === 1 ? '' : 's'} valid\n`);
      }
    });
}
