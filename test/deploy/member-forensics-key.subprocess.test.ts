import { describe, expect, it } from 'vitest';

import { ActionRegistry, builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { collectEvidence } from '../../src/actions/ssm-collect-evidence.js';
import { CFN_LINT_TIMEOUT_MS, cfnLint } from './cfn-lint.js';

describe('cfn-lint', () => {
  it(
    'passes the member-account template with its forensics key (ForensicsAccountId given)',
    async ({ signal }) => {
      const lint = await cfnLint('member-role-forensics.json', memberRoleTemplate(builtInActions(), { forensicsAccountId: '444455556666', roleRegion: 'eu-west-1' }), signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );

  it(
    'passes the member-account template with the forensic instance profile alone (ssm.collect-evidence; the whole registry above has it too)',
    async ({ signal }) => {
      const template = memberRoleTemplate(new ActionRegistry([collectEvidence]), { roleRegion: 'eu-west-1', evidenceBucketNamePrefix: 'acme-evidence' });
      const lint = await cfnLint('member-role-collection.json', template, signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
