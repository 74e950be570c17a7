import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const riposte = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const result = spawnSync(process.execPath, ['bin/riposte.js', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('riposte validate', () => {
  it('exits 0 on the default library', () => {
    const result = riposte('validate', 'playbooks');

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('4 playbooks valid\n');
    expect(result.status).toBe(0);
  });

  it('exits 1 listing every problem as file:line:column', () => {
    const directory = mkdtempSync(join(tmpdir(), 'riposte-validate-'));
    writeFileSync(
      join(directory, 'broken.yml'),
      ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  severity.lable: HIGH', 'steps:', '  - ec2.isolat: {}', ''].join('\n'),
    );
    writeFileSync(join(directory, 'syntax.yaml'), 'id: [\n');

    const result = riposte('validate', directory);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(directory, 'broken.yml')}:5:3: match.severity.lable: "severity.lable" is not a field Riposte can match on (did you mean "severity.label"?)`);
    expect(result.stderr).toContain(`${join(directory, 'broken.yml')}:7:5: steps[0].ec2.isolat: "ec2.isolat" is not a known action`);
    expect(result.stderr).toMatch(new RegExp(`${join(directory, 'syntax.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML: `));
    expect(result.stderr).toContain('3 problems');
  });
});
