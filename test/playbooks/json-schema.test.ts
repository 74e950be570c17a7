import { readFileSync } from 'node:fs';

import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { playbookJsonSchema, playbookJsonSchemaText, readPlaybookFiles } from '../../src/playbooks/index.js';

describe('playbook.schema.json', () => {
  it('is up to date with the zod schemas and the action registry (regenerate with `npm run schema`)', () => {
    const committed = readFileSync('playbook.schema.json', 'utf8');

    expect(committed, 'playbook.schema.json is stale: run `npm run schema` and commit it').toBe(playbookJsonSchemaText());
  });

  const validate = new Ajv({ strict: false, allErrors: true }).compile(playbookJsonSchema());

  it('accepts every playbook of the default library', async () => {
    for (const file of await readPlaybookFiles('playbooks')) {
      const valid = validate(parse(file.text));
      expect(valid, `${file.path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it.each([
    ['an unknown action', { steps: [{ 'ec2.isolat': {} }] }],
    ['an unknown parameter', { steps: [{ 'ec2.isolate': { allowAllFirts: true } }] }],
    ['an unknown match field', { match: { 'severity.lable': 'HIGH' } }],
    ['a value outside an enumeration', { match: { 'severity.label': 'HIHG' } }],
    ['a text operator on a number', { match: { 'severity.normalized': { prefix: '7' } } }],
    ['a custom action name over 20 characters', { triggers: { customAction: { id: 'Isolate', name: 'Isolate this instance now' } } }],
  ])('rejects %s, as the editor should show', (_, change) => {
    const playbook = {
      id: 'p',
      title: 'P',
      triggers: { automatic: true },
      match: { 'product.id': 'guardduty', 'severity.label': ['HIGH', 'CRITICAL'], 'severity.normalized': { gte: 70 } },
      steps: [{ 'ec2.isolate': {} }],
    };
    expect(validate(playbook), JSON.stringify(validate.errors)).toBe(true);

    expect(validate({ ...playbook, ...change })).toBe(false);
  });
});
