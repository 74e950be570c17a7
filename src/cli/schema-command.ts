import { writeFile } from 'node:fs/promises';

import type { Command } from 'commander';

import { playbookJsonSchemaText } from '../playbooks/index.js';

/** `riposte schema [--output file]`: the playbook JSON Schema for editors. */
export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print (or write) the playbook JSON Schema used by editors')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (options: { output?: string }) => {
      const text = playbookJsonSchemaText();
      if (options.output === undefined) process.stdout.write(text);
      else await writeFile(options.output, text);
    });
}
