import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { playbookJsonSchemaText } from '../../src/playbooks/index.js';
import { riposte } from './run-cli.js';

describe('riposte schema', () => {
  it('prints the playbook JSON Schema', async () => {
    const result = await riposte(['schema']);

    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(playbookJsonSchemaText());
    expect(JSON.parse(result.stdout)).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#' });
  });

  it('with --output, writes it to the file and prints nothing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'riposte-schema-')), 'playbook.schema.json');

    const result = await riposte(['schema', '--output', file]);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(playbookJsonSchemaText());
  });

  it('matches the committed playbook.schema.json that editors use', () => {
    expect(readFileSync('playbook.schema.json', 'utf8')).toBe(playbookJsonSchemaText());
  });
});
