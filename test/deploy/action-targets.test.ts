import { describe, expect, it } from 'vitest';

import { ActionTargetsRequestError, foreignIdsOf, MAX_CUSTOM_ACTIONS, parseActionTargets } from '../../src/deploy/index.js';
import { MAX_CUSTOM_ACTIONS as COMPILER_LIMIT } from '../../src/playbooks/index.js';

describe('parseActionTargets', () => {
  it("reads the stack's ActionTargets, describing an action by its name when the playbook gives no description", () => {
    expect(
      parseActionTargets([
        { Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'Isolate and preserve' },
        { Id: 'EmptyDefaultSg', Name: 'Empty default SG' },
      ]),
    ).toEqual([
      { id: 'IsolateEc2', name: 'Isolate instance', description: 'Isolate and preserve' },
      { id: 'EmptyDefaultSg', name: 'Empty default SG', description: 'Empty default SG' },
    ]);
  });

  it('holds the same limit as the playbook compiler (50 custom actions per account and region)', () => {
    expect(MAX_CUSTOM_ACTIONS).toBe(COMPILER_LIMIT);
    expect(() => parseActionTargets(Array.from({ length: 51 }, (_, index) => ({ Id: `A${index}`, Name: 'n' })))).toThrow(ActionTargetsRequestError);
    expect(parseActionTargets(Array.from({ length: 50 }, (_, index) => ({ Id: `A${index}`, Name: 'n' })))).toHaveLength(50);
  });

  it.each([
    ['a map instead of a list', { Id: 'A', Name: 'n' }, 'ResourceProperties.ActionTargets must be a list'],
    ['an Id of 21 characters', [{ Id: 'a'.repeat(21), Name: 'n' }], 'ResourceProperties.ActionTargets[0].Id'],
    ['a blank Name', [{ Id: 'A', Name: ' ' }], 'ResourceProperties.ActionTargets[0].Name'],
  ])('refuses %s, naming the field', (_name, value, message) => {
    expect(() => parseActionTargets(value)).toThrow(message);
  });
});

describe('foreignIdsOf', () => {
  it('reads the ids other owners held from the physical ids this handler gives, and nothing from any other', () => {
    expect(foreignIdsOf('riposte-action-targets')).toEqual(new Set());
    expect(foreignIdsOf('riposte-action-targets:foreign=CloseAdminPorts,IsolateEc2')).toEqual(new Set(['CloseAdminPorts', 'IsolateEc2']));
    expect(foreignIdsOf('riposte-action-targets:nothing-created')).toBeUndefined();
    expect(foreignIdsOf('riposte-prod-SecurityHubActionTargets-1A2B3C')).toBeUndefined();
    expect(foreignIdsOf(undefined)).toBeUndefined();
  });
});
