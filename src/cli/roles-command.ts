import type { Command } from 'commander';

import { builtInActions, memberRoleTemplate } from '../actions/index.js';
import type { CommandIo } from './io.js';

/** `riposte roles`: the member-account role template (CloudFormation, for StackSets). */
export function registerRolesCommand(program: Command, io: CommandIo): void {
  program
    .command('roles')
    .description('print the CloudFormation template of the member-account role (least privilege, from the action registry)')
    .option('--role-name <name>', 'default role name', 'RiposteMemberRole')
    .action((options: { roleName: string }) => {
      io.stdout.write(`${JSON.stringify(memberRoleTemplate(builtInActions(), { roleName: options.roleName }), null, 2)}\n`);
    });
}
