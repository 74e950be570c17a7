import type { Command } from 'commander';

import { builtInActions, memberRoleTemplate } from '../actions/index.js';
import { libraryActions, loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';

interface RolesOptions {
  readonly roleName: string;
  readonly all?: boolean;
  readonly forensicsAccount?: string;
}

/**
 * `riposte roles [path]`: the member-account role template (CloudFormation,
 * for StackSets), allowing only what the actions of the given playbooks
 * need — the same registry the stack grants its functions from
 * (`libraryActions`). `--all` covers the whole action registry instead.
 * Where those actions may copy snapshots, the template offers the
 * forensics key; `--forensics-account` is the default of its
 * `ForensicsAccountId` parameter (without one, no key is created).
 */
export function registerRolesCommand(program: Command, io: CommandIo): void {
  program
    .command('roles')
    .description('print the CloudFormation template of the member-account role: least privilege for the actions the playbooks use (--all: every action)')
    .argument('[path]', 'playbook file or directory whose actions the role allows', 'playbooks')
    .option('--role-name <name>', 'default role name', 'RiposteMemberRole')
    .option('--all', 'allow every action of the registry, whatever the playbooks use')
    .option('--forensics-account <id>', 'default ForensicsAccountId: the account whose forensics key (alias/riposte-forensics) each region gets, to open shared encrypted snapshots')
    .action(async (path: string, options: RolesOptions, command: Command) => {
      if (options.forensicsAccount !== undefined && !/^\d{12}$/.test(options.forensicsAccount)) command.error('error: --forensics-account must be a 12-digit AWS account id');
      const templateOptions = { roleName: options.roleName, ...(options.forensicsAccount === undefined ? {} : { forensicsAccountId: options.forensicsAccount }) };
      if (options.all === true) {
        // A path with --all would be silently ignored: say so instead.
        if (command.args.length > 0) command.error('error: --all covers every action: give no playbook path with it');
        io.stdout.write(`${JSON.stringify(memberRoleTemplate(builtInActions(), templateOptions), null, 2)}\n`);
        return;
      }
      const { playbooks, problems } = await loadPlaybooks(path);
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      if (playbooks.length === 0) {
        io.stderr.write(`${terminalLines([`${path}: no playbook found (a library needs at least one .yml or .yaml file holding one; --all covers every action)`])}\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      io.stdout.write(`${JSON.stringify(memberRoleTemplate(libraryActions(playbooks), templateOptions), null, 2)}\n`);
    });
}
