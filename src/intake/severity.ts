import { SeverityLabel, type Severity } from './types.js';

/**
 * Security Hub's normalized scale: 0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM,
 * 70–89 HIGH, 90–100 CRITICAL.
 */
export function labelOfNormalized(normalized: number): SeverityLabel {
  if (normalized >= 90) return SeverityLabel.Critical;
  if (normalized >= 70) return SeverityLabel.High;
  if (normalized >= 40) return SeverityLabel.Medium;
  if (normalized >= 1) return SeverityLabel.Low;
  return SeverityLabel.Informational;
}

/** What Security Hub stores as `Normalized` when a product sends only a label. */
export const NORMALIZED_OF_LABEL: Readonly<Record<SeverityLabel, number>> = {
  INFORMATIONAL: 0,
  LOW: 1,
  MEDIUM: 40,
  HIGH: 70,
  CRITICAL: 90,
};

/** ASFF `Severity`: the label wins when both are present (it is what Security Hub shows and filters on). */
export function asffSeverity(severity: { Label?: SeverityLabel; Normalized?: number; Original?: string; Product?: number }): Severity {
  const original = severity.Original ?? (severity.Product === undefined ? undefined : String(severity.Product));
  const label = severity.Label ?? labelOfNormalized(severity.Normalized ?? 0);
  const normalized = severity.Normalized ?? NORMALIZED_OF_LABEL[label];
  return { label, normalized, basis: 'reported', ...(original === undefined ? {} : { original }) };
}

/**
 * GuardDuty's 1.0–10.0 scale: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9,
 * Critical 9.0–10.0 (the label follows GuardDuty's own bands; the normalized
 * value is the score times ten).
 */
export function guardDutySeverity(score: number): Severity {
  const label = score >= 9 ? SeverityLabel.Critical : score >= 7 ? SeverityLabel.High : score >= 4 ? SeverityLabel.Medium : score >= 1 ? SeverityLabel.Low : SeverityLabel.Informational;
  const normalized = Math.min(100, Math.round(score * 100) / 10);
  return { label, normalized, original: String(score), basis: 'derived' };
}

/** OCSF `severity_id`: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other. */
export function ocsfSeverity(severityId: number, name: string | undefined): Severity {
  const byId: Record<number, SeverityLabel> = {
    1: SeverityLabel.Informational,
    2: SeverityLabel.Low,
    3: SeverityLabel.Medium,
    4: SeverityLabel.High,
    5: SeverityLabel.Critical,
    6: SeverityLabel.Critical,
  };
  const label = byId[severityId] ?? SeverityLabel.Informational;
  const normalized = severityId === 6 ? 100 : NORMALIZED_OF_LABEL[label];
  return { label, normalized, original: name ?? String(severityId), basis: 'derived' };
}

/** For sources without a severity: a stated assumption, never a silent zero. */
export function assumedSeverity(label: SeverityLabel): Severity {
  return { label, normalized: NORMALIZED_OF_LABEL[label], basis: 'assumed' };
}
