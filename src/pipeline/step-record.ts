import type { StepPhase, StepRecord, StepStatus } from '../ledger/index.js';
import type { PipelineServices } from './types.js';

/** The pipeline's clock (a test's, or the wall clock). */
export function now(services: PipelineServices): Date {
  return (services.clock ?? (() => new Date()))();
}

/** One step record, stamped now: what every stage appends to the run. */
export function stepRecord(
  services: PipelineServices,
  step: { readonly index: number; readonly action: string },
  phase: StepPhase,
  status: StepStatus,
  summary: string,
  extra: Partial<Omit<StepRecord, 'index' | 'action' | 'phase' | 'status' | 'summary' | 'at'>> = {},
): StepRecord {
  return { index: step.index, action: step.action, phase, status, summary, changes: [], ...extra, at: now(services).toISOString() };
}

/** The latest record of one phase for each step index, in step order (a resumed step has more than one). */
export function latestByIndex(steps: readonly StepRecord[], phase: StepPhase): Map<number, StepRecord> {
  const latest = new Map<number, StepRecord>();
  for (const step of steps) if (step.phase === phase) latest.set(step.index, step);
  return new Map([...latest].sort(([a], [b]) => a - b));
}

/** A run step that did its work: what verification checks and a retry carries over. */
export function succeeded(step: StepRecord | undefined): boolean {
  return step !== undefined && (step.status === 'changed' || step.status === 'compliant');
}
