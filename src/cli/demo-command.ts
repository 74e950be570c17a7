import type { Command } from 'commander';

import type { CommandIo } from './io.js';

/**
 * `riposte demo`: the whole mission on the embedded AWS emulator
 * (moto_server), with no AWS account. The stories live in demo/ and are
 * loaded only when the command runs: they pull in the pipeline, the Lambda
 * handlers and a dozen SDK clients, which no other command needs.
 */
export function registerDemoCommand(program: Command, io: CommandIo): void {
  program
    .command('demo')
    .description('run Riposte against the embedded AWS emulator (moto_server): findings from two member accounts through the Lambda handlers, before/after, rollback, timeline')
    .action(async () => {
      const { runDemo } = await import('./demo/index.js');
      await runDemo(io);
    });
}
