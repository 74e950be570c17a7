import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';

describe('riposte validate', () => {
  it('exits 0 on the default library', async () => {
    const result = await riposte(['validate', 'playbooks']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('4 playbooks valid\n');
    expect(result.status).toBe(0);
  });

  it('exits 1 listing every problem as file:line:column', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'riposte-validate-'));
    writeFileSync(join(directory, 'broken.yml'), ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  severity.lable: HIGH', 'steps:', '  - ec2.isolat: {}', ''].join('\n'));
    writeFileSync(join(directory, 'syntax.yaml'), 'id: [\n');

    const result = await riposte(['validate', directory]);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(directory, 'broken.yml')}:5:3: match.severity.lable: "severity.lable" is not a field Riposte can match on (did you mean "severity.label"?)`);
    expect(result.stderr).toContain(`${join(directory, 'broken.yml')}:7:5: steps[0].ec2.isolat: "ec2.isolat" is not a known action`);
    expect(result.stderr).toMatch(new RegExp(`${join(directory, 'syntax.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML: `));
    expect(result.stderr).toContain('3 problems');
  });

  it('with --verbose, prints each playbook’s triggers, permissions and event patterns', async () => {
    const result = await riposte(['validate', 'playbooks', '--verbose']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^cis-password-policy \(playbooks\/\S+\.ya?ml:\d+\): automatic, custom action CisPasswordPolicy(, api)?; \d+ steps$/m);
    expect(result.stdout).toMatch(/^ {2}member-account permissions: .*iam:UpdateAccountPasswordPolicy/m);
    expect(result.stdout).toMatch(/^ {2}event patterns: \[\{"source":/m);
    expect(result.stdout).toMatch(/4 playbooks valid\n$/);
  });
});
