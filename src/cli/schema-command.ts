import { writeFile } from 'node:fs/promises';

import type { Command } from 'commander';

import { playbookJsonSchemaText } from '../playbooks/index.js';
import type { CommandIo } from './io.js';

/** `riposte schema [--output file]`: the playbook JSON Schema for editors. */
export function registerSchemaCommand(program: Command, io: CommandIo): void {
  program
    .command('schema')
    .description('print (or write) the playbook JSON Schema used by editors')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (options: { output?: string }) => {
      const text = playbookJsonSchemaText();
      if (options.output === undefined) io.stdout.write(text);
      else await writeFile(options.output, text);
    });
}
