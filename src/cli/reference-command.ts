import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Command } from 'commander';

import type { CommandIo } from './io.js';
import { referenceDocuments } from './reference.js';

/**
 * `riposte reference [--output dir]`: the playbook and action references,
 * generated from the playbook schema and the action registry. The
 * repository keeps them in docs/ (`riposte reference --output docs`), and a
 * test fails when those copies are stale.
 */
export function registerReferenceCommand(program: Command, io: CommandIo): void {
  program
    .command('reference')
    .description('print (or write) the playbook reference and the action reference (parameters, IAM permissions, reversible or not), generated from the schema and the action registry')
    .option('-o, --output <dir>', 'write playbook-reference.md and action-reference.md into this directory instead of printing them')
    .action(async (options: { output?: string }) => {
      const documents = referenceDocuments();
      if (options.output === undefined) {
        io.stdout.write(documents.map((document) => document.text).join('\n'));
        return;
      }
      await mkdir(options.output, { recursive: true });
      for (const document of documents) {
        const path = join(options.output, document.file);
        await writeFile(path, document.text);
        io.stdout.write(`wrote ${path}\n`);
      }
    });
}
