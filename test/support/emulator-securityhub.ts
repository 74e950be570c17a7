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

/** EventBridge events whose `detail.findings` are ASFF findings Security Hub holds: imports, and the findings an analyst sent to a custom action. */
const ASFF_EVENT_TYPES: ReadonlySet<string> = new Set(['Security Hub Findings - Imported', 'Security Hub Findings - Custom Action']);
/** BatchImportFindings takes at most 100 findings a request. */
const IMPORT_BATCH = 100;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The ASFF findings of an EventBridge event (an object, or its JSON text, as an SQS body carries it) that
 * Security Hub could hold: those of a Security Hub import or custom-action event with the identifiers and
 * resources BatchImportFindings requires. Anything else — GuardDuty and Config events (their findings are
 * not updated through Security Hub), OCSF events (moto keeps no OCSF findings), text that is no event,
 * a finding too broken to have been imported — carries none.
 */
export function eventAsffFindings(event: unknown): AwsSecurityFinding[] {
  let parsed = event;
  if (typeof event === 'string') {
    try {
      parsed = JSON.parse(event);
    } catch {
      return [];
    }
  }
  if (!isRecord(parsed) || parsed.source !== 'aws.securityhub' || typeof parsed['detail-type'] !== 'string' || !ASFF_EVENT_TYPES.has(parsed['detail-type'])) return [];
  const findings = isRecord(parsed.detail) ? parsed.detail.findings : undefined;
  if (!Array.isArray(findings)) return [];
  const region = typeof parsed.region === 'string' ? parsed.region : undefined;
  return findings
    .filter((finding): finding is Record<string, unknown> => isRecord(finding))
    .filter((finding) => typeof finding.Id === 'string' && typeof finding.ProductArn === 'string' && Array.isArray(finding.Resources) && finding.Resources.length > 0)
    .map((finding) => ({ ...(region === undefined ? {} : { Region: region }), ...finding }) as AwsSecurityFinding);
}

/**
 * Puts the ASFF findings an event carries into the emulator's Security Hub (each in its own region) before
 * the event is handled: in AWS such an event exists because Security Hub holds its findings, so Riposte's
 * BatchUpdateFindings on them must land. A finding Security Hub already holds is left as it is (a second
 * delivery of an event does not re-import its finding; moto's import would overwrite its note and workflow).
 *
 * @returns the findings imported.
 */
export async function importEventFindings(event: unknown): Promise<AwsSecurityFinding[]> {
  const imported: AwsSecurityFinding[] = [];
  const seen = new Set<string>();
  const byRegion = new Map<string, AwsSecurityFinding[]>();
  for (const finding of eventAsffFindings(event)) {
    const region = finding.Region ?? 'us-east-1';
    const key = JSON.stringify([region, finding.Id, finding.ProductArn]);
    if (seen.has(key)) continue;
    seen.add(key);
    if ((await readFinding(finding.Id as string, finding.ProductArn as string, region)) !== undefined) continue;
    byRegion.set(region, [...(byRegion.get(region) ?? []), finding]);
  }
  for (const [region, findings] of byRegion) {
    for (let start = 0; start < findings.length; start += IMPORT_BATCH) {
      const batch = findings.slice(start, start + IMPORT_BATCH);
      await importFindings(batch, region);
      imported.push(...batch);
    }
  }
  return imported;
}

/** Reads back from the emulator the finding at `index` of an event's `detail.findings` (by its Id, ProductArn and Region). */
export async function readEventFinding(event: unknown, index = 0): Promise<AwsSecurityFinding | undefined> {
  const finding = (event as { detail?: { findings?: Array<{ Id?: string; ProductArn?: string; Region?: string }> } }).detail?.findings?.[index];
  if (finding?.Id === undefined || finding.ProductArn === undefined) throw new Error(`the event holds no Security Hub finding ${index}`);
  return readFinding(finding.Id, finding.ProductArn, finding.Region ?? 'us-east-1');
}
