import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { registerPatternsCommand, type PlaybookPatterns } from '../../src/cli/patterns-command.js';
import { customActionEventPattern, loadPlaybooks, PlaybookCompileError } from '../../src/playbooks/index.js';
import { runRegistered } from './registered.js';

const patterns = (args: readonly string[]) => runRegistered(registerPatternsCommand, ['patterns', ...args]);
const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-patterns-'));

describe('riposte patterns', () => {
  it('with --json, prints every playbook of the default library with its automatic and custom-action patterns, as compiled', async () => {
    const { playbooks } = await loadPlaybooks('playbooks');

    const result = await patterns(['--json']);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const printed = (JSON.parse(result.stdout) as { playbooks: PlaybookPatterns[] }).playbooks;
    expect(printed.map((entry) => entry.playbook)).toEqual(playbooks.map((compiled) => compiled.playbook.id));
    for (const [index, compiled] of playbooks.entries()) {
      const entry = printed[index] as PlaybookPatterns;
      // Every compiled pattern is printed once, under its trigger.
      expect([...entry.automatic, ...(entry.customAction?.patterns ?? [])]).toEqual(expect.arrayContaining([...compiled.eventPatterns]));
      expect(entry.automatic.length + (entry.customAction?.patterns.length ?? 0)).toBe(compiled.eventPatterns.length);
      const customAction = compiled.playbook.triggers.customAction;
      if (customAction !== undefined) expect(entry.customAction).toEqual({ id: customAction.id, name: customAction.name, patterns: [customActionEventPattern(customAction.id)] });
      if (!compiled.playbook.triggers.automatic) expect(entry.automatic).toEqual([]);
    }
  });

  it('prints each playbook’s patterns as text: automatic (with its Security Hub and Config patterns) and custom action CisPasswordPolicy', async () => {
    const result = await patterns(['playbooks/cis-password-policy.yml']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^cis-password-policy \(playbooks\/cis-password-policy\.yml:\d+\)$/m);
    expect(result.stdout).toMatch(/^ {2}automatic: \d+ patterns$/m);
    expect(result.stdout).toContain('"Security Hub Findings - Imported"');
    expect(result.stdout).toContain('"Config Rules Compliance Change"');
    expect(result.stdout).toMatch(/^ {2}custom action CisPasswordPolicy \(".+"\)$/m);
    expect(result.stdout).toContain('"suffix": ":action/custom/CisPasswordPolicy"');
  });

  it('says a playbook with automatic: false has no automatic pattern', async () => {
    const library = scratch();
    writeFileSync(
      join(library, 'manual.yml'),
      [
        'id: manual-only',
        'title: Manual only',
        'triggers:',
        '  automatic: false',
        '  customAction: { id: ManualOnly, name: Manual only }',
        'match:',
        '  severity.label: HIGH',
        'steps:',
        '  - ec2.enable-termination-protection: {}',
        '',
      ].join('\n'),
    );

    const text = await patterns([library]);
    const json = await patterns([library, '--json']);

    expect(text.status).toBe(0);
    expect(text.stdout).toContain('  automatic: none (the automatic trigger is off)\n');
    expect(JSON.parse(json.stdout)).toMatchObject({ playbooks: [{ playbook: 'manual-only', automatic: [], customAction: { id: 'ManualOnly', patterns: [customActionEventPattern('ManualOnly')] } }] });
  });

  it('throws PlaybookCompileError (exit 2 with each problem, printed by the program) for a broken library', async () => {
    const library = scratch();
    writeFileSync(join(library, 'broken.yml'), ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  severity.lable: HIGH', 'steps:', '  - notify: {}', ''].join('\n'));

    const outcome = patterns([library]);

    await expect(outcome).rejects.toBeInstanceOf(PlaybookCompileError);
    await expect(outcome).rejects.toMatchObject({ problems: [expect.objectContaining({ path: 'match.severity.lable' })] });
  });

  it('exits 2 for a library with no playbook', async () => {
    const library = scratch();

    const result = await patterns([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${library}: no playbook found (a library needs at least one .yml or .yaml file holding one)\n`);
  });

  it('exits 2 for an unknown option (--yaml)', async () => {
    const result = await patterns(['--yaml']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--yaml'");
  });

  it('--help names the path argument and --json', async () => {
    const result = await patterns(['--help']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('[path]');
    expect(result.stdout).toContain('--json');
  });
});
