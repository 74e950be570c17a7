import { beforeAll, describe, expect, it } from 'vitest';

import { ActionRegistry, builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { collectEvidence } from '../../src/actions/ssm-collect-evidence.js';
import { forwarderTemplate } from '../../src/deploy/index.js';
import { evidenceBucketTemplate } from '../../src/evidence/index.js';
import { loadPlaybooks } from '../../src/playbooks/index.js';
import { CFN_LINT_TIMEOUT_MS, cfnLintTemplates, type LintReport } from './cfn-lint.js';

/*
 * Every template Riposte generates for StackSets and Regions, linted in one
 * cfn-lint process (its start is most of its time). The stack's own template
 * is linted as `serverless package` writes it, with the copies of these it
 * writes beside it (serverless-package.subprocess.test.ts).
 */
let report: LintReport;

beforeAll(async () => {
  const { playbooks } = await loadPlaybooks('playbooks');
  report = await cfnLintTemplates({
    'member-role.json': memberRoleTemplate(builtInActions()),
    'member-role-region.json': memberRoleTemplate(builtInActions(), { roleRegion: 'eu-west-1' }),
    'member-role-forensics.json': memberRoleTemplate(builtInActions(), { forensicsAccountId: '444455556666', roleRegion: 'eu-west-1' }),
    'member-role-collection.json': memberRoleTemplate(new ActionRegistry([collectEvidence]), { roleRegion: 'eu-west-1', evidenceBucketNamePrefix: 'acme-evidence' }),
    'forwarders.json': forwarderTemplate(playbooks, { homeRegion: 'us-east-1' }),
    // Options change only parameter defaults (test/evidence/bucket-template.test.ts).
    'evidence-bucket.json': evidenceBucketTemplate({ retentionMode: 'COMPLIANCE', retentionDays: 2557, collectionOrganizationId: 'o-abcdefghij' }),
  });
}, CFN_LINT_TIMEOUT_MS);

describe('cfn-lint', () => {
  it('passes the member-account role template', () => {
    expect(report.get('member-role.json')).toEqual([]);
  });

  it('passes the member-account role template with a default RoleRegion', () => {
    expect(report.get('member-role-region.json')).toEqual([]);
  });

  it('passes the member-account template with its forensics key (ForensicsAccountId given)', () => {
    expect(report.get('member-role-forensics.json')).toEqual([]);
  });

  it('passes the member-account template with the forensic instance profile alone (ssm.collect-evidence; the whole registry above has it too)', () => {
    expect(report.get('member-role-collection.json')).toEqual([]);
  });

  it('passes the forwarder template of the default library (riposte forwarders)', () => {
    expect(report.get('forwarders.json')).toEqual([]);
  });

  it('passes the per-Region evidence bucket template, with the member accounts’ collection writes', () => {
    expect(report.get('evidence-bucket.json')).toEqual([]);
  });
});
