import { describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { riposte } from './run-cli.js';

describe('riposte roles --forensics-account', () => {
  it('prints the template with the forensics account as ForensicsAccountId’s default, and the permissions the forensics copies take', async () => {
    const result = await riposte(['roles', '--all', '--forensics-account', '444455556666']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(builtInActions(), { roleName: 'RiposteMemberRole', forensicsAccountId: '444455556666' }));
    for (const permission of ['ec2:CopySnapshot', 'ec2:DeleteSnapshot', 'kms:CreateGrant', 'kms:ReEncryptTo']) expect(result.stdout).toContain(`"${permission}"`);
    expect(result.stdout).toContain('"alias/riposte-forensics"');
  });

  it('exits 2 for what is no account id', async () => {
    const result = await riposte(['roles', '--all', '--forensics-account', '4444']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--forensics-account must be a 12-digit AWS account id');
  });
});
