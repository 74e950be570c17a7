import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { libraryActions, loadPlaybooks } from '../../src/playbooks/index.js';
import { riposte } from './run-cli.js';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-roles-'));

/** Every IAM action a template's role policies allow. */
function allowed(template: unknown): string[] {
  const text = JSON.stringify(template);
  return [...new Set([...text.matchAll(/"([a-z0-9-]+:[A-Za-z0-9*]+)"/g)].map((match) => match[1] as string))].filter((action) => !action.startsWith('sts:') && !action.startsWith('arn:')).sort();
}

describe('riposte roles', () => {
  it('prints the member-account role for the actions the default library uses, as the stack derives it (libraryActions)', async () => {
    const { playbooks } = await loadPlaybooks('playbooks');

    const result = await riposte(['roles']);

    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(libraryActions(playbooks), { roleName: 'RiposteMemberRole' }));
    // No action the library uses terminates an instance or deletes a volume: the role cannot either.
    expect(result.stdout).not.toContain('ec2:TerminateInstances');
    expect(result.stdout).not.toContain('ec2:DeleteVolume');
  });

  it('for a library of one playbook (iam.set-password-policy), allows its IAM actions and no EC2 change', async () => {
    const library = scratch();
    writeFileSync(
      join(library, 'password.yml'),
      ['id: password-only', 'title: Password only', 'triggers: { automatic: true }', 'match:', '  control.id: IAM.7', 'steps:', '  - iam.set-password-policy: {}', ''].join('\n'),
    );

    const result = await riposte(['roles', library]);
    const all = await riposte(['roles', '--all']);

    expect(result.status).toBe(0);
    const actions = allowed(JSON.parse(result.stdout));
    expect(actions).toContain('iam:UpdateAccountPasswordPolicy');
    // Only reads remain of EC2 (the guard reads every target's tags); nothing that changes an instance or a group.
    expect(actions.filter((action) => action.startsWith('ec2:') && !/^ec2:Describe/.test(action))).toEqual([]);
    expect(allowed(JSON.parse(all.stdout))).toEqual(expect.arrayContaining(['ec2:ModifyInstanceAttribute', ...actions]));
  });

  it('with --all, prints the role for the whole action registry', async () => {
    const result = await riposte(['roles', '--all']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(builtInActions(), { roleName: 'RiposteMemberRole' }));
  });

  it('with --role-name, names the role as asked', async () => {
    const result = await riposte(['roles', '--all', '--role-name', 'SecurityAutomation']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(builtInActions(), { roleName: 'SecurityAutomation' }));
  });

  it('exits 2 for --all with a playbook path (the path would be ignored)', async () => {
    const result = await riposte(['roles', 'playbooks', '--all']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('error: --all covers every action: give no playbook path with it');
  });

  it('exits 2 listing the problems of a broken library', async () => {
    const library = scratch();
    writeFileSync(join(library, 'broken.yml'), ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  severity.label: HIGH', 'steps:', '  - ec2.isolat: {}', ''].join('\n'));

    const result = await riposte(['roles', library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"ec2.isolat" is not a known action');
  });

  it('exits 2 for a library with no playbook, pointing at --all', async () => {
    const library = scratch();

    const result = await riposte(['roles', library]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${library}: no playbook found (a library needs at least one .yml or .yaml file holding one; --all covers every action)\n`);
  });
});
