import type { Command } from 'commander';

import { CUSTOM_ACTION_DETAIL_TYPE } from '../deploy/index.js';
import { loadPlaybooks, PlaybookCompileError, type CompiledPlaybook, type EventPattern } from '../playbooks/index.js';
import { neutraliseJson } from '../neutralise.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';

/** One playbook's delivery, as `riposte patterns --json` prints it. */
export interface PlaybookPatterns {
  readonly playbook: string;
  /** file:line of the playbook. */
  readonly source: string;
  /** The patterns of its automatic trigger; empty when it has none. */
  readonly automatic: readonly EventPattern[];
  /** Its Security Hub custom action and the pattern of that action's events, when it has one. */
  readonly customAction?: { readonly id: string; readonly name: string; readonly patterns: readonly EventPattern[] };
  /** Whether the on-demand API may run it (no event pattern: the API calls it directly). */
  readonly api: boolean;
}

const isCustomAction = (pattern: EventPattern): boolean => (pattern['detail-type'] as readonly unknown[] | undefined)?.includes(CUSTOM_ACTION_DETAIL_TYPE) === true;

/** A compiled playbook's event patterns, by trigger: what the stack's EventBridge rules deliver to it. */
export function playbookPatterns(compiled: CompiledPlaybook): PlaybookPatterns {
  const { playbook } = compiled;
  const customAction = playbook.triggers.customAction;
  return {
    playbook: playbook.id,
    source: `${compiled.source.file}:${compiled.source.line}`,
    automatic: compiled.eventPatterns.filter((pattern) => !isCustomAction(pattern)),
    ...(customAction === undefined ? {} : { customAction: { id: customAction.id, name: customAction.name, patterns: compiled.eventPatterns.filter(isCustomAction) } }),
    api: playbook.triggers.api,
  };
}

/** A pattern as indented JSON, under its heading: patterns run to hundreds of characters on one line. */
const patternLines = (pattern: EventPattern): string[] =>
  JSON.stringify(pattern, null, 2)
    .split('\n')
    .map((line) => `    ${line}`);

function describePatterns(entry: PlaybookPatterns): string[] {
  const lines = [`${entry.playbook} (${entry.source})`];
  if (entry.automatic.length === 0) lines.push('  automatic: none (the automatic trigger is off)');
  else lines.push(`  automatic: ${entry.automatic.length} pattern${entry.automatic.length === 1 ? '' : 's'}`, ...entry.automatic.flatMap(patternLines));
  if (entry.customAction === undefined) lines.push('  custom action: none');
  else lines.push(`  custom action ${entry.customAction.id} ("${entry.customAction.name}")`, ...entry.customAction.patterns.flatMap(patternLines));
  if (entry.api) lines.push('  api: yes (POST /runs; no event pattern)');
  return lines;
}

/**
 * `riposte patterns [path]`: the EventBridge event patterns a playbook
 * library compiles to, per playbook and trigger: what the stack's rules
 * deliver (deploy/stack.ts joins them per event kind). A library with
 * problems is bad input (exit 2), as is an empty one.
 */
export function registerPatternsCommand(program: Command, io: CommandIo): void {
  program
    .command('patterns')
    .description('print the EventBridge event patterns each playbook compiles to: its automatic trigger’s and its custom action’s')
    .argument('[path]', 'playbook file or directory', 'playbooks')
    .option('--json', 'print them as JSON: { playbooks: [{ playbook, source, automatic, customAction?, api }] }')
    .action(async (path: string, options: { json?: boolean }) => {
      const { playbooks, problems } = await loadPlaybooks(path);
      if (problems.length > 0) throw new PlaybookCompileError(problems);
      if (playbooks.length === 0) {
        io.stderr.write(`${terminalLines([`${path}: no playbook found (a library needs at least one .yml or .yaml file holding one)`])}\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      const entries = playbooks.map(playbookPatterns);
      if (options.json === true) io.stdout.write(`${neutraliseJson(JSON.stringify({ playbooks: entries }, null, 2))}\n`);
      else io.stdout.write(`${terminalLines(entries.flatMap((entry, index) => [...(index === 0 ? [] : ['']), ...describePatterns(entry)]))}\n`);
    });
}
