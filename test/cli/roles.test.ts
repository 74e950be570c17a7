import { describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { riposte } from './run-cli.js';

describe('riposte roles', () => {
  it('prints the member-account role template of the built-in actions', async () => {
    const result = await riposte(['roles']);

    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(builtInActions(), { roleName: 'RiposteMemberRole' }));
  });

  it('with --role-name, names the role as asked', async () => {
    const result = await riposte(['roles', '--role-name', 'SecurityAutomation']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(memberRoleTemplate(builtInActions(), { roleName: 'SecurityAutomation' }));
  });
});
