import { describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { loadPlaybooks } from '../../src/playbooks/index.js';
import { forwarderTemplate } from '../../src/deploy/index.js';
import { CFN_LINT_TIMEOUT_MS, cfnLint } from './cfn-lint.js';

// The stack's own template is linted as `serverless package` writes it (serverless-package.subprocess.test.ts).
describe('cfn-lint', () => {
  it(
    'passes the member-account role template',
    async ({ signal }) => {
      const lint = await cfnLint('member-role.json', memberRoleTemplate(builtInActions()), signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );

  it(
    'passes the member-account role template with a default RoleRegion',
    async ({ signal }) => {
      const lint = await cfnLint('member-role-region.json', memberRoleTemplate(builtInActions(), { roleRegion: 'eu-west-1' }), signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );

  it(
    'passes the forwarder template of the default library (riposte forwarders)',
    async ({ signal }) => {
      const { playbooks } = await loadPlaybooks('playbooks');
      const lint = await cfnLint('forwarders.json', forwarderTemplate(playbooks, { homeRegion: 'us-east-1' }), signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
