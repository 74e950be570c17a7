import type * as z from '../zod.js';

import { InvalidFindingError, MalformedEventError } from './errors.js';
import { describeIssue } from './field-path.js';
import type { ParsedEnvelope } from './envelope.js';
import type { Finding, IntakeResult } from './types.js';

export interface FindingBatchReader<T> {
  /** `ASFF` or `OCSF`, for error messages. */
  readonly format: string;
  readonly schema: z.ZodMiniType<T>;
  /** Best-effort id and account of an element that failed validation, for the error. */
  identify(item: unknown): { findingId?: string | undefined; account?: string | undefined };
  normalize(value: T, index: number, item: unknown): Finding;
}

/**
 * Reads `detail.findings`. Security Hub sends one finding per event, but in
 * an array, and other senders may batch: each element is validated on its
 * own, so one bad finding never drops the others.
 */
export function readFindingBatch<T>(parsed: ParsedEnvelope, reader: FindingBatchReader<T>): IntakeResult {
  const source = parsed.envelope.source;
  const findings = parsed.detail.findings;
  if (!Array.isArray(findings)) {
    throw new MalformedEventError(findings === undefined ? 'is missing' : `must be an array of ${reader.format} findings`, source, 'detail.findings');
  }
  if (findings.length === 0) throw new MalformedEventError('is empty: the event carries no finding', source, 'detail.findings');

  const accepted: Finding[] = [];
  const rejected: InvalidFindingError[] = [];
  findings.forEach((item: unknown, index) => {
    const result = reader.schema.safeParse(item);
    if (result.success) {
      accepted.push(reader.normalize(result.data, index, item));
      return;
    }
    const { field, message } = describeIssue(result.error, `detail.findings[${index}]`);
    const { findingId, account } = reader.identify(item);
    rejected.push(
      new InvalidFindingError(message, source, field, {
        index,
        ...(findingId === undefined ? {} : { findingId }),
        ...(account === undefined ? {} : { account }),
      }),
    );
  });
  return { envelope: parsed.envelope, findings: accepted, rejected };
}
