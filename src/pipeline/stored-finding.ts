import type { Finding, RawFinding } from '../intake/index.js';
import type { RunRecord } from '../ledger/index.js';
import { StoredFindingInvalidError } from './errors.js';

/**
 * The finding as a run record keeps it: everything but the raw copy, which
 * the record already holds as `receivedEvent` (an event may be close to
 * EventBridge's 256 KB; storing it twice would crowd DynamoDB's 400 KB item).
 */
export function storedFinding(finding: Finding): Omit<Finding, 'raw'> {
  const { raw: _raw, ...rest } = finding;
  return rest;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The finding a resumed or rolled-back run acts on, rebuilt from its record.
 * @throws StoredFindingInvalidError when a field every stage relies on is missing.
 */
export function restoreFinding(record: RunRecord): Finding {
  const stored = record.finding;
  if (!isObject(stored)) throw new StoredFindingInvalidError(record.runId, 'finding');
  for (const field of ['id', 'account', 'region', 'partition'] as const) {
    if (typeof stored[field] !== 'string') throw new StoredFindingInvalidError(record.runId, `finding.${field}`);
  }
  if (!Array.isArray(stored.resources)) throw new StoredFindingInvalidError(record.runId, 'finding.resources');
  if (!isObject(stored.trigger)) throw new StoredFindingInvalidError(record.runId, 'finding.trigger');
  return { ...(stored as unknown as Omit<Finding, 'raw'>), raw: record.receivedEvent as RawFinding };
}
