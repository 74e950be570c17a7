import { randomUUID } from 'node:crypto';

/**
 * A run id that sorts by time and reads at a glance:
 * `r-20261124T101500Z-3f9a1c2b4d5e`.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `r-${stamp}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** A correlation id for one delivery (an event, a request, a resume). */
export function newCorrelationId(): string {
  return randomUUID();
}
