import type { Command } from 'commander';

import { forwardedPatterns, forwarderTemplate } from '../deploy/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { ExitCode, type CommandIo } from './io.js';

/** `riposte forwarders`: the forwarder template (CloudFormation, for StackSets) of a playbook library. */
export function registerForwardersCommand(program: Command, io: CommandIo): void {
  program
    .command('forwarders')
    .description('print the CloudFormation template (for StackSets) that forwards the GuardDuty and Config events the playbooks act on from every region to the home region')
    .argument('[path]', 'playbook file or directory', 'playbooks')
    .option('--home-region <region>', 'default of the HomeRegion parameter')
    .option('--bus-name <name>', 'the bus Riposte reads in the home region', 'default')
    .action(async (path: string, options: { homeRegion?: string; busName: string }) => {
      const { playbooks, problems } = await loadPlaybooks(path);
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      if (forwardedPatterns(playbooks).length === 0) {
        io.stderr.write('no automatic playbook acts on GuardDuty or Config events: there is nothing to forward\n');
        io.exitCode = ExitCode.BadInput;
        return;
      }
      io.stdout.write(`${JSON.stringify(forwarderTemplate(playbooks, { ...(options.homeRegion === undefined ? {} : { homeRegion: options.homeRegion }), busName: options.busName }), null, 2)}\n`);
    });
}
