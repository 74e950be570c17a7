import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { builtInActions } from '../../src/actions/index.js';
import { registerReferenceCommand } from '../../src/cli/reference-command.js';
import {
  ACTION_PARAM_NOTES,
  actionParamRows,
  actionReference,
  MISSING_DESCRIPTION,
  PLAYBOOK_KEY_NOTES,
  playbookKeyRows,
  playbookReference,
  REFERENCE_COMMAND,
  REFERENCE_FILES,
  referenceDocuments,
} from '../../src/cli/reference.js';
import { MATCH_OPERATORS, MATCHABLE_FIELD_NAMES, MAX_RESOURCES_PER_HOUR, playbookSchema } from '../../src/playbooks/index.js';
import * as z from '../../src/zod.js';
import { runRegistered } from './registered.js';

const registry = builtInActions();
const reference = (args: readonly string[]) => runRegistered(registerReferenceCommand, ['reference', ...args]);
/** The section of the action reference about one action: from its heading to the next. */
const sectionOf = (text: string, action: string): string => text.split(/^## /m).find((section) => section.startsWith(`\`${action}\``)) ?? '';

describe('the committed references', () => {
  for (const { file, text } of referenceDocuments()) {
    it(`docs/${file} is what the generator writes, byte for byte`, () => {
      const committed = readFileSync(join('docs', file), 'utf8');

      // A stale reference fails with the command that regenerates it, not only a diff.
      expect(committed === text, `docs/${file} is stale: the schema or the action registry changed. Regenerate it with \`${REFERENCE_COMMAND}\` and commit the result.`).toBe(true);
    });
  }
});

describe('playbookReference', () => {
  const text = playbookReference(registry);

  it('says it is generated, and by which command', () => {
    expect(text.split('\n')[2]).toContain(`Generated from`);
    expect(text.split('\n')[2]).toContain(REFERENCE_COMMAND);
  });

  it('documents every top-level key of the playbook schema, and every nested key, each with a description', () => {
    const rows = playbookKeyRows();

    for (const key of Object.keys(playbookSchema.shape)) expect(text).toContain(`| \`${key}\` |`);
    for (const nested of ['triggers.automatic', 'triggers.customAction', 'triggers.api', 'exempt.accounts', 'exempt.tags', 'limits.maxResourcesPerHour']) {
      expect(rows.map((row) => row.path)).toContain(nested);
    }
    expect(rows.filter((row) => row.description === MISSING_DESCRIPTION).map((row) => row.path)).toEqual([]);
    expect(text).not.toContain(MISSING_DESCRIPTION);
  });

  it('gives each key its type and default as the schema has them: priority an integer 1–100 defaulting to 1, steps required', () => {
    expect(text).toContain('| `priority` | integer (1–100) | `1` |');
    expect(text).toContain('| `steps` | non-empty list of step | required |');
    expect(text).toContain('| `triggers.automatic` | boolean | `false` |');
    expect(text).toContain(`| \`limits.maxResourcesPerHour\` | integer (1–${MAX_RESOURCES_PER_HOUR}) | required |`);
  });

  it('lists every match operator and every matchable field', () => {
    for (const operator of MATCH_OPERATORS) expect(text).toContain(`| \`${operator}\` |`);
    for (const field of MATCHABLE_FIELD_NAMES) expect(text).toContain(`| \`${field}\` |`);
  });

  it('links every registered action to its section of the action reference', () => {
    for (const name of registry.names()) expect(text).toContain(`[\`${name}\`](action-reference.md#${name.replace(/\./g, '')})`);
  });

  it('keeps no note for a key the schema does not have', () => {
    const paths = new Set(playbookKeyRows().map((row) => row.path));

    expect([...PLAYBOOK_KEY_NOTES.keys()].filter((path) => !paths.has(path))).toEqual([]);
  });
});

describe('actionReference', () => {
  const text = actionReference(registry);

  it('says it is generated, and by which command', () => {
    expect(text.split('\n')[2]).toContain(REFERENCE_COMMAND);
  });

  it('has a section for every registered action with its target, member and hosting permissions, and whether it can be rolled back', () => {
    for (const action of registry.all()) {
      const section = sectionOf(text, action.name);

      expect(section, action.name).not.toBe('');
      expect(section).toContain(`- Target: ${action.target}`);
      for (const permission of [...action.permissions.member, ...action.permissions.hosting]) expect(section).toContain(`\`${permission}\``);
      expect(section).toContain(`- Reversible: ${action.behaviour.rollback === undefined ? 'no' : 'yes'}`);
    }
  });

  it('documents every parameter of every action, with a description', () => {
    for (const action of registry.all()) {
      const section = sectionOf(text, action.name);
      const shape = z.toJSONSchema(action.params, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };

      for (const param of Object.keys(shape.properties ?? {})) expect(section, `${action.name} ${param}`).toContain(`| \`${param}\` |`);
      expect(
        actionParamRows(action)
          .filter((row) => row.description === MISSING_DESCRIPTION)
          .map((row) => `${action.name} ${row.path}`),
      ).toEqual([]);
    }
  });

  it('gives ssm.run-command its required commands and iam.set-password-policy its CIS defaults', () => {
    expect(sectionOf(text, 'ssm.run-command')).toMatch(/\| `commands` \| non-empty list of string \(not empty\) \| required \|/);
    expect(sectionOf(text, 'iam.set-password-policy')).toContain('| `minimumPasswordLength` | integer (14–128) | `14` |');
    expect(sectionOf(text, 'ec2.revoke-unrestricted-ingress')).toContain('`[22, 3389]`');
  });

  it('keeps no note for an action or a parameter the registry does not have', () => {
    const stale = [...ACTION_PARAM_NOTES].flatMap(([name, notes]) => {
      const action = registry.find(name);
      if (action === undefined) return [name];
      const params = new Set(actionParamRows(action).map((row) => row.path));
      return [...notes.keys()].filter((param) => !params.has(param)).map((param) => `${name} ${param}`);
    });

    expect(stale).toEqual([]);
  });
});

describe('riposte reference', () => {
  it('with --output, writes both references into the directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'riposte-reference-')), 'docs');

    const result = await reference(['--output', dir]);

    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(readFileSync(join(dir, REFERENCE_FILES.playbook), 'utf8')).toBe(playbookReference());
    expect(readFileSync(join(dir, REFERENCE_FILES.action), 'utf8')).toBe(actionReference());
    expect(result.stdout).toBe(`wrote ${join(dir, REFERENCE_FILES.playbook)}\nwrote ${join(dir, REFERENCE_FILES.action)}\n`);
  });

  it('without --output, prints both', async () => {
    const result = await reference([]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('# Playbook reference');
    expect(result.stdout).toContain('# Action reference');
  });
});
