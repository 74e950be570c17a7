import type { Command } from 'commander';

import { builtInActions, memberRoleTemplate } from '../actions/index.js';
import { libraryActions, loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';

interface RolesOptions {
  readonly roleName: string;
  readonly all?: boolean;
}

/**
 * `riposte roles [path]`: the member-account role template (CloudFormation,
 * for StackSets), allowing only what the actions of the given playbooks
 * need — the same registry the stack grants its functions from
 * (`libraryActions`). `--all` covers the whole action registry instead.
 */
export function registerRolesCommand(program: Command, io: CommandIo): void {
  program
    .command('roles')
    .description('print the CloudFormation template of the member-account role: least privilege for the actions the playbooks use (--all: every action)')
    .argument('[path]', 'playbook file or directory whose actions the role allows', 'playbooks')
    .option('--role-name <name>', 'default role name', 'RiposteMemberRole')
    .option('--all', 'allow every action of the registry, whatever the playbooks use')
    .action(async (path: string, options: RolesOptions, command: Command) => {
      if (options.all === true) {
        // A path with --all would be silently ignored: say so instead.
        if (command.args.length > 0) command.error('error: --all covers every action: give no playbook path with it');
        io.stdout.write(`${JSON.stringify(memberRoleTemplate(builtInActions(), { roleName: options.roleName }), null, 2)}\n`);
        return;
      }
      const { playbooks, problems } = await loadPlaybooks(path);
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      if (playbooks.length === 0) {
        io.stderr.write(`${terminalLines([`${path}: no playbook found (a library needs at least one .yml or .yaml file holding one; --all covers every action)`])}\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      io.stdout.write(`${JSON.stringify(memberRoleTemplate(libraryActions(playbooks), { roleName: options.roleName }), null, 2)}\n`);
    });
}
