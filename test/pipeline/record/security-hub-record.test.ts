import { BatchUpdateFindingsCommand, BatchUpdateFindingsV2Command, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../../src/aws/index.js';
import { FindingUpdateError, RIPOSTE_NOTE_AUTHOR } from '../../../src/actions/index.js';
import { recordOnFinding, summaryNoteText } from '../../../src/pipeline/record/index.js';
import { apiFinding, findingFrom, passwordPolicySummary } from './summaries.js';

// Emulator gap: moto 5.2.1 does not implement Security Hub BatchUpdateFindings
// or BatchUpdateFindingsV2 (security-hub-record.int.test.ts shows it), so the
// client is mocked here and the exact requests asserted.
const securityHub = mockClient(SecurityHubClient);
const factory = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 }, {});
const update = { runId: 'run-0001', playbookId: 'cis-password-policy', text: 'RESOLVED: iam.set-password-policy changed MinimumPasswordLength 8→14; verified' };

describe('recordOnFinding', () => {
  afterEach(() => securityHub.reset());
  // The unit project shares one module graph across files (isolate: false): the stub on the client's send must not outlive this file.
  afterAll(() => securityHub.restore());

  it('writes the note authored by Riposte, under the run header, and the workflow status on an ASFF finding', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const finding = findingFrom('securityhub-imported-cis-password-policy.json');

    const result = await recordOnFinding(factory, finding, { ...update, workflow: 'RESOLVED' });

    expect(result).toEqual({ updated: true, summary: 'note and workflow RESOLVED written on the finding (BatchUpdateFindings)' });
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: [
          {
            Id: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
            ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
          },
        ],
        Note: { Text: '[riposte run run-0001 playbook cis-password-policy] RESOLVED: iam.set-password-policy changed MinimumPasswordLength 8→14; verified', UpdatedBy: RIPOSTE_NOTE_AUTHOR },
        Workflow: { Status: 'RESOLVED' },
      },
    ]);
    expect(await (securityHub.commandCalls(BatchUpdateFindingsCommand)[0]?.thisValue as SecurityHubClient | undefined)?.config.region()).toBe('us-east-1');
  });

  it('writes a marked comment and a status id with BatchUpdateFindingsV2 on an OCSF finding, the note alone when no workflow is given', async () => {
    securityHub.on(BatchUpdateFindingsV2Command).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const finding = findingFrom('securityhub-v2-ocsf-compliance.json');

    const notified = await recordOnFinding(factory, finding, { ...update, workflow: 'NOTIFIED' });
    const noted = await recordOnFinding(factory, finding, update);

    expect([notified.summary, noted.summary]).toEqual(['note and workflow NOTIFIED written on the finding (BatchUpdateFindingsV2)', 'note written on the finding (BatchUpdateFindingsV2)']);
    const identifiers = [
      {
        CloudAccountUid: '111122223333',
        FindingInfoUid: 'arn:aws:securityhub:us-east-1:111122223333:security-control/IAM.15/finding/4b8ce8c0-1326-4af6-a1db-5a51c0692e72',
        MetadataProductUid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
      },
    ];
    const comment = `[riposte run run-0001 playbook cis-password-policy] ${update.text}`;
    expect(securityHub.commandCalls(BatchUpdateFindingsV2Command).map((call) => call.args[0].input)).toEqual([
      { FindingIdentifiers: identifiers, Comment: comment, StatusId: 2 },
      { FindingIdentifiers: identifiers, Comment: comment },
    ]);
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });

  it('keeps the whole note within Security Hub’s 512 characters', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const text = summaryNoteText(passwordPolicySummary({ outcome: { summary: 'x', workflowStatus: 'RESOLVED' }, steps: [] })).padEnd(600, '.');

    await recordOnFinding(factory, findingFrom('securityhub-imported-open-ssh.json'), { ...update, runId: '6f1c2d3e-4b5a-4c6d-8e7f-901234567890', text });

    const note = securityHub.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Note?.Text ?? '';
    expect(note.length).toBe(512);
    expect(note.startsWith('[riposte run 6f1c2d3e-4b5a-4c6d-8e7f-901234567890 playbook cis-password-policy] RESOLVED: ')).toBe(true);
    expect(note.endsWith('…')).toBe(true);
  });

  it('leaves findings that did not come through Security Hub alone, saying why', async () => {
    const findings = [findingFrom('guardduty-ec2-backdoor.json'), findingFrom('config-compliance-password-policy.json'), apiFinding()];

    const results = await Promise.all(findings.map((finding) => recordOnFinding(factory, finding, { ...update, workflow: 'RESOLVED' })));

    expect(results).toEqual([
      { updated: false, summary: 'not a Security Hub finding (guardduty): nothing to update' },
      { updated: false, summary: 'not a Security Hub finding (config): nothing to update' },
      { updated: false, summary: 'not a Security Hub finding (api): nothing to update' },
    ]);
    expect(securityHub.calls()).toHaveLength(0);
  });

  it('fails with a retryable typed error carrying the account, region, finding and run when the finding is left unprocessed', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [{ FindingIdentifier: { Id: 'x', ProductArn: 'y' }, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding not found' }],
    });
    const finding = findingFrom('securityhub-imported-guardduty-ec2.json');

    const error: unknown = await recordOnFinding(factory, finding, update).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FindingUpdateError);
    expect(error).toMatchObject({
      message: 'Security Hub did not update the finding: FindingNotFound Finding not found',
      retryable: true,
      errorCode: 'FindingNotFound',
      context: { account: '111122223333', region: 'us-east-1', resource: finding.id, runId: 'run-0001', playbook: 'cis-password-policy', errorCode: 'FindingNotFound' },
    });
  });

  it('wraps a failed call in the same typed error, retryable when throttled', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    securityHub.on(BatchUpdateFindingsCommand).rejectsOnce(throttled).rejectsOnce(denied);
    const finding = findingFrom('securityhub-imported-open-ssh.json');

    const errors = [await recordOnFinding(factory, finding, update).catch((caught: unknown) => caught), await recordOnFinding(factory, finding, update).catch((caught: unknown) => caught)];

    expect(errors).toMatchObject([
      { message: 'Security Hub did not update the finding: TooManyRequestsException: Rate exceeded', retryable: true, cause: throttled, context: { runId: 'run-0001' } },
      { message: 'Security Hub did not update the finding: AccessDeniedException: not authorized', retryable: false, cause: denied },
    ]);
    expect(errors.every((error) => error instanceof FindingUpdateError)).toBe(true);
  });
});
