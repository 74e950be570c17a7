import { clip, type RunSummary, type RunSummaryChange, type RunSummaryStep } from './run-summary.js';

/** A {@link RunSummary} cut down to fit a message: `truncated` says so, the counts say what went. */
export type TruncatedRunSummary = RunSummary & {
  truncated?: true;
  /** Steps dropped from the end of `steps`. */
  omittedSteps?: number;
  /** Resources dropped from the end of `finding.resources`. */
  omittedResources?: number;
};

const CHANGE_VALUE_MAX = 200;
const STEP_SUMMARY_MAX = 200;
const TEXT_MAX = 1_000;

const clipValue = (value: unknown): unknown => {
  const json = JSON.stringify(value);
  return json !== undefined && json.length > CHANGE_VALUE_MAX ? clip(json, CHANGE_VALUE_MAX) : value;
};

const mapSteps = (summary: TruncatedRunSummary, map: (step: RunSummaryStep) => RunSummaryStep): TruncatedRunSummary => ({ ...summary, steps: summary.steps.map(map), truncated: true });

/** Each stage cuts more than the one before, applied on top of it: the least loss that fits wins. */
const STAGES: ReadonlyArray<(summary: TruncatedRunSummary) => TruncatedRunSummary> = [
  // Before/after values (whole policies, rule lists) are usually what makes a run big.
  (summary) =>
    mapSteps(summary, (step) =>
      step.changes === undefined ? step : { ...step, changes: step.changes.map((change): RunSummaryChange => ({ field: change.field, from: clipValue(change.from), to: clipValue(change.to) })) },
    ),
  (summary) =>
    mapSteps(summary, (step) => {
      const { changes: _dropped, ...rest } = step;
      return rest;
    }),
  (summary) => mapSteps(summary, (step) => ({ ...step, summary: clip(step.summary, STEP_SUMMARY_MAX) })),
  (summary) => mapSteps(summary, (step) => ({ ...step, summary: '' })),
  (summary) => ({
    ...summary,
    summary: clip(summary.summary, TEXT_MAX),
    finding: { ...summary.finding, title: clip(summary.finding.title, TEXT_MAX) },
    ...(summary.playbookTitle === undefined ? {} : { playbookTitle: clip(summary.playbookTitle, TEXT_MAX) }),
    truncated: true,
  }),
];

/** The longest prefix of `items` shorter than all of them (down to none) for which `fits` holds: a binary search. */
function keepPrefix<T>(items: readonly T[], build: (kept: readonly T[]) => TruncatedRunSummary, fits: (candidate: TruncatedRunSummary) => boolean): TruncatedRunSummary | undefined {
  let best: TruncatedRunSummary | undefined;
  let low = 0;
  let high = items.length - 1;
  while (low <= high) {
    const keep = Math.floor((low + high) / 2);
    const candidate = build(items.slice(0, keep));
    if (fits(candidate)) {
      best = candidate;
      low = keep + 1;
    } else {
      high = keep - 1;
    }
  }
  return best;
}

/**
 * The summary as it is if `fits` holds, or cut down progressively until it
 * does: change values clipped, then changes dropped, step summaries clipped,
 * then emptied, long texts clipped, and at last steps and resources dropped
 * from the end (counted in `omittedSteps`, `omittedResources`). Every cut
 * version carries `truncated: true`. `undefined` when nothing fits.
 */
export function fitSummary(summary: RunSummary, fits: (candidate: TruncatedRunSummary) => boolean): TruncatedRunSummary | undefined {
  let candidate: TruncatedRunSummary = summary;
  if (fits(candidate)) return candidate;
  for (const stage of STAGES) {
    candidate = stage(candidate);
    if (fits(candidate)) return candidate;
  }
  const steps = candidate.steps;
  const withSteps = keepPrefix(steps, (kept) => ({ ...candidate, steps: [...kept], omittedSteps: steps.length - kept.length, truncated: true }), fits);
  if (withSteps !== undefined) return withSteps;
  const stepless: TruncatedRunSummary = { ...candidate, steps: [], omittedSteps: steps.length, truncated: true };
  const resources = stepless.finding.resources;
  return keepPrefix(resources, (kept) => ({ ...stepless, finding: { ...stepless.finding, resources: [...kept] }, omittedResources: resources.length - kept.length, truncated: true }), fits);
}
