import { describe, expect, it } from 'vitest';

import { FindingUpdateError, RIPOSTE_NOTE_AUTHOR, riposteNoteText } from '../../../src/actions/index.js';
import { recordOnFinding } from '../../../src/pipeline/record/index.js';
import { emulatorClientFactory, resetEmulator } from '../../support/emulator.js';
import { asffFindingOf, importFindings, readFinding } from '../../support/emulator-securityhub.js';
import { findingFrom } from './summaries.js';

// The emulator's launcher (src/emulator/moto_riposte.py) implements BatchUpdateFindings and a
// validating BatchUpdateFindingsV2 without an OCSF store: the note and workflow are read back.
describe('recordOnFinding against the emulator', () => {
  it('writes the note (authored by riposte) and workflow NOTIFIED on the imported CIS 1.9 finding, read back with GetFindings', async () => {
    await resetEmulator();
    const asff = asffFindingOf('securityhub-imported-cis-password-policy.json');
    await importFindings([asff]);
    const finding = findingFrom('securityhub-imported-cis-password-policy.json');

    const result = await recordOnFinding(emulatorClientFactory(), finding, { runId: 'run-read-back', playbookId: 'cis-password-policy', text: 'password policy set', workflow: 'NOTIFIED' });

    expect(result).toEqual({ updated: true, summary: 'note and workflow NOTIFIED written on the finding (BatchUpdateFindings)' });
    const read = await readFinding(finding.id, asff.ProductArn as string);
    expect(read?.Note).toMatchObject({ Text: riposteNoteText('run-read-back', 'cis-password-policy', 'password policy set'), UpdatedBy: RIPOSTE_NOTE_AUTHOR });
    expect(read?.Workflow?.Status).toBe('NOTIFIED');
  });

  it.each([
    ['securityhub-imported-cis-password-policy.json', 'FindingNotFound', 'Security Hub did not update the finding: FindingNotFound Finding Not Found'],
    ['securityhub-v2-ocsf-compliance.json', 'ResourceNotFoundException', 'Security Hub did not update the finding: ResourceNotFoundException Finding not found'],
  ])('%s, which Security Hub does not hold: a retryable FindingUpdateError carrying UnprocessedFindings ErrorCode %s', async (fixtureName, errorCode, message) => {
    await resetEmulator();
    const finding = findingFrom(fixtureName);

    const error: unknown = await recordOnFinding(emulatorClientFactory(), finding, { runId: 'run-gap', playbookId: 'cis-password-policy', text: 'x', workflow: 'NOTIFIED' }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(FindingUpdateError);
    expect(error).toMatchObject({ retryable: true, errorCode, message, context: { account: '111122223333', resource: finding.id, runId: 'run-gap', errorCode } });
  });
});
