/**
 * Shadow replay reads findings as they are exported, not only as EventBridge
 * delivers them: `GetFindings` answers bare ASFF findings, a data lake holds
 * bare OCSF ones. Each is put in the envelope Security Hub would have
 * delivered it in (`Security Hub Findings - Imported` for ASFF, `Findings
 * Imported V2` for OCSF), so that it goes through the same intake — and the
 * same checks of what AWS proves — as a delivered one. The envelope states
 * nothing the finding does not: its account and region are the finding's.
 * Anything else is returned as it is, to be read as an event.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** An ASFF finding: what `GetFindings` returns (`SchemaVersion`, `ProductArn`, `AwsAccountId`…). */
export const isAsffFinding = (value: Readonly<Record<string, unknown>>): boolean => typeof value.SchemaVersion === 'string' && typeof value.ProductArn === 'string' && 'AwsAccountId' in value;

/** An OCSF finding: `metadata` and `finding_info`, with a class (Security Hub's OCSF findings). */
export const isOcsfFinding = (value: Readonly<Record<string, unknown>>): boolean => isRecord(value.metadata) && isRecord(value.finding_info) && 'class_uid' in value;

/** `value` as an EventBridge event: a bare ASFF or OCSF finding wrapped as Security Hub delivers it, anything else as it is. */
export function eventOfRawFinding(value: unknown, origin: string): unknown {
  if (!isRecord(value) || 'detail-type' in value) return value;
  if (isAsffFinding(value)) {
    return {
      version: '0',
      id: `replay:${origin}`,
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      account: text(value.AwsAccountId),
      time: text(value.UpdatedAt) ?? text(value.CreatedAt),
      region: text(value.Region),
      resources: text(value.ProductArn) === undefined ? [] : [value.ProductArn],
      detail: { findings: [value] },
    };
  }
  if (isOcsfFinding(value)) {
    const cloud = isRecord(value.cloud) ? value.cloud : {};
    const account = isRecord(cloud.account) ? text(cloud.account.uid) : undefined;
    return {
      version: '0',
      id: `replay:${origin}`,
      'detail-type': 'Findings Imported V2',
      source: 'aws.securityhub',
      account,
      time: undefined,
      region: text(cloud.region),
      resources: [],
      detail: { findings: [value] },
    };
  }
  return value;
}
