import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';

describe('riposte validate', () => {
  it('exits 0 on the default library', async () => {
    const result = await riposte(['validate', 'playbooks']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('4 playbooks valid\n');
    expect(result.status).toBe(0);
  });

  it('exits 2 listing every problem as file:line:column', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'riposte-validate-'));
    writeFileSync(join(directory, 'broken.yml'), ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  severity.lable: HIGH', 'steps:', '  - ec2.isolat: {}', ''].join('\n'));
    writeFileSync(join(directory, 'syntax.yaml'), 'id: [\n');

    const result = await riposte(['validate', directory]);

    expect(result.status).toBe(2);
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

  it('with --verbose, says which product bindings the compiler added to a control playbook, and why', async () => {
    const result = await riposte(['validate', 'playbooks/cis-password-policy.yml', '--verbose']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ {2}bound: product\.id = securityhub, added to control\.\S+.*: control ids are taken from Security Hub’s own findings only/m);
    expect(result.stdout).toMatch(/^ {2}bound: product\.owner in \[aws, riposte\], added to match/m);
  });
});

describe('riposte validate, on crafted and hostile paths', () => {
  const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-validate-'));
  const libraryFiles = (): string[] => readdirSync('playbooks').filter((name) => /\.ya?ml$/.test(name));

  it('refuses /dev/zero as a device (exit 2, no stack trace), reading nothing of it', async () => {
    const result = await riposte(['validate', '/dev/zero']);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('NotARegularFileError: /dev/zero: is a character device, not a regular file: only regular files are read\n');
  });

  it('names a missing path with a typed error: FileNotFoundError "no such file"', async () => {
    const missing = join(scratch(), 'no-such-playbooks');

    const result = await riposte(['validate', missing]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`FileNotFoundError: ${missing}: no such file (ENOENT)\n`);
  });

  it('follows symbolic links to playbook files (a library of links to playbooks/*.yml)', async () => {
    const library = scratch();
    for (const name of libraryFiles()) symlinkSync(resolve('playbooks', name), join(library, name));

    const result = await riposte(['validate', library]);

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${libraryFiles().length} playbooks valid\n`);
    expect(result.status).toBe(0);
  });

  it('follows a symbolic link to a directory of playbooks', async () => {
    const library = scratch();
    symlinkSync(resolve('playbooks'), join(library, 'shared'));

    const result = await riposte(['validate', library]);

    expect(result.stdout).toBe(`${libraryFiles().length} playbooks valid\n`);
    expect(result.status).toBe(0);
  });

  it('refuses a link loop (loop.yml -> loop.yml) and a directory cycle (teams/up -> ..), still reporting the other files', async () => {
    const library = scratch();
    for (const name of libraryFiles()) symlinkSync(resolve('playbooks', name), join(library, name));
    symlinkSync(join(library, 'loop.yml'), join(library, 'loop.yml'));
    mkdirSync(join(library, 'teams'));
    symlinkSync('..', join(library, 'teams', 'up'));
    writeFileSync(join(library, 'broken.yml'), 'id: [\n');

    const result = await riposte(['validate', library]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${join(library, 'loop.yml')}:1:1: symbolic link loop: too many levels of symbolic links (ELOOP)\n`);
    expect(result.stderr).toContain(`${join(library, 'teams', 'up')}:1:1: symbolic link loop: leads back to ${library}, a directory above it\n`);
    expect(result.stderr).toMatch(new RegExp(`${join(library, 'broken.yml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML: `));
    expect(result.stderr).toMatch(/^3 problems$/m);
    expect(result.stdout).toBe('');
  });

  it('refuses an empty library: 0 playbooks is an error (exit 2), never "0 playbooks valid"', async () => {
    const empty = scratch();
    writeFileSync(join(empty, 'README.md'), 'no playbooks here');

    const result = await riposte(['validate', empty]);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${empty}: no playbook found (a library needs at least one .yml or .yaml file holding one): an empty library matches no finding\n`);
  });

  it('writes a problem quoting a key with an ESC sequence and a newline on one line', async () => {
    const library = scratch();
    writeFileSync(
      join(library, 'hostile.yml'),
      ['id: hostile', 'title: Hostile', 'triggers: { automatic: true }', 'match:', '  "severity\\e[2J\\nFORGED": HIGH', 'steps:', '  - notify: {}', ''].join('\n'),
    );

    const result = await riposte(['validate', library]);

    expect(result.status).toBe(2);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).not.toMatch(/^FORGED/m);
    expect(result.stderr).toContain('\\u001b[2J\\nFORGED');
  });
});
