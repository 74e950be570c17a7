import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';

import { emulatorClientFactory } from './emulator.js';
import { fixture } from './fixtures.js';

/** The ASFF finding carried by an EventBridge `Security Hub Findings - Imported` fixture. */
export function asffFindingOf(fixtureName: string, index = 0): AwsSecurityFinding {
  const event = fixture<{ detail: { findings: AwsSecurityFinding[] } }>(fixtureName);
  const finding = event.detail.findings[index];
  if (finding === undefined) throw new Error(`${fixtureName} holds no finding ${index}`);
  return finding;
}

/** A Security Hub client for the emulator leased to this test file (Riposte's hosting account, moto's default). */
export function emulatorSecurityHub(region = 'us-east-1'): SecurityHubClient {
  return emulatorClientFactory(region).create(SecurityHubClient);
}

/**
 * Imports findings into the emulator's Security Hub, as the finding's product would,
 * so that BatchUpdateFindings has something to update and GetFindings something to read.
 */
export async function importFindings(findings: readonly AwsSecurityFinding[], region = 'us-east-1'): Promise<void> {
  const { FailedCount, FailedFindings } = await emulatorSecurityHub(region).send(new BatchImportFindingsCommand({ Findings: [...findings] }));
  if (FailedCount !== 0) throw new Error(`the emulator refused findings: ${JSON.stringify(FailedFindings)}`);
}

/** Reads one finding back from the emulator by its identifier (GetFindings filtered on Id and ProductArn). */
export async function readFinding(id: string, productArn: string, region = 'us-east-1'): Promise<AwsSecurityFinding | undefined> {
  const { Findings } = await emulatorSecurityHub(region).send(
    new GetFindingsCommand({ Filters: { Id: [{ Value: id, Comparison: 'EQUALS' }], ProductArn: [{ Value: productArn, Comparison: 'EQUALS' }] } }),
  );
  if ((Findings?.length ?? 0) > 1) throw new Error(`GetFindings answered ${Findings?.length} findings for one identifier`);
  return Findings?.[0];
}
