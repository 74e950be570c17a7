import { describe, expect, it } from 'vitest';

import { EmulatorUnsupportedOperationError } from '../../../src/emulator/index.js';
import { FindingUpdateError } from '../../../src/actions/index.js';
import { recordOnFinding } from '../../../src/pipeline/record/index.js';
import { emulatorClientFactory } from '../../support/emulator.js';
import { findingFrom } from './summaries.js';

// Why security-hub-record.test.ts mocks Security Hub: this is what moto 5.2.1
// answers. When it starts to implement these calls, this test fails and the
// mock can give way to read-back from the emulator.
describe('recordOnFinding against the emulator', () => {
  it.each([
    ['securityhub-imported-cis-password-policy.json', 'SecurityHub.BatchUpdateFindings'],
    ['securityhub-v2-ocsf-compliance.json', 'SecurityHub.BatchUpdateFindingsV2'],
  ])('meets the gap for %s: %s is not implemented, a non-retryable typed error naming it', async (fixtureName, operation) => {
    const finding = findingFrom(fixtureName);

    const error: unknown = await recordOnFinding(emulatorClientFactory(), finding, { runId: 'run-gap', playbookId: 'cis-password-policy', text: 'x', workflow: 'NOTIFIED' }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(FindingUpdateError);
    expect(error).toMatchObject({ retryable: false, context: { account: '111122223333', resource: finding.id, runId: 'run-gap' } });
    expect((error as FindingUpdateError).cause).toBeInstanceOf(EmulatorUnsupportedOperationError);
    expect((error as FindingUpdateError).cause).toMatchObject({ context: { operation } });
  });
});
