import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

describe('riposte demo', () => {
  it('runs against its own emulator: intake, matching with reasons, and the CIS remediation verified', () => {
    const result = spawnSync(process.execPath, ['bin/riposte.js', 'demo'], { encoding: 'utf8', timeout: 90_000 });

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Assumed arn:aws:sts::111122223333:assumed-role/RiposteMemberRole/riposte-demo');
    expect(result.stdout).toContain('matched    cis-password-policy');
    expect(result.stdout).toContain('matched    ec2-compromise-isolate');
    expect(result.stdout).toContain('verify     COMPLIANT: password policy meets the CIS values');
    expect(result.stdout).toContain('again      password policy already compliant; nothing changed');
    expect(result.stdout).toContain('read back  minimum length 14, symbols required, reuse prevention 24, max age 90');
    expect(result.stdout).toContain('Emulator stopped.');
  }, 120_000);
});
