import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

import type { PipelineResult, PlaybookRunResult } from '../pipeline/index.js';

/**
 * The metrics Riposte's functions publish (CloudWatch embedded metric
 * format), in namespace `POWERTOOLS_METRICS_NAMESPACE` (default `Riposte`)
 * with the dimension `service` (`POWERTOOLS_SERVICE_NAME`, default
 * `riposte`) and, where listed, one more:
 *
 * | metric                   | extra dimension                         | counts |
 * |--------------------------|-----------------------------------------|--------|
 * | `Runs`                   | `outcome`: succeeded, failed, skipped, in-progress, duplicate, off | playbook runs, by how this invocation left them |
 * | `Steps`                  | `result`: changed, compliant, failed, skipped, in-progress | step executions (run phase) |
 * | `GuardSkips`             | `code`: own-update, closed, account-exempt, resource-exempt, tags-unreadable, limit-reached, target-disputed, target-stale | findings or runs a guard stopped |
 * | `LimitTrips`             | —                                       | runs refused by a playbook's change limit (alarm on ≥ 1) |
 * | `RecordingFailures`      | `item`: note, notification, event       | records of a run that did not land |
 * | `FindingsRejected`       | —                                       | findings of a readable event intake refused |
 * | `MalformedRecordsDropped`| —                                       | messages or events dropped unread: a retry cannot help |
 * | `RecordsRetried`         | —                                       | messages handed back for redelivery (they end in the DLQ if they keep failing) |
 * | `RecordRetries`          | `result`: done, duplicate, failed, retry, dropped | finding updates retried from the record-retry queue |
 */
export const RiposteMetric = {
  Runs: 'Runs',
  Steps: 'Steps',
  GuardSkips: 'GuardSkips',
  LimitTrips: 'LimitTrips',
  RecordingFailures: 'RecordingFailures',
  FindingsRejected: 'FindingsRejected',
  MalformedRecordsDropped: 'MalformedRecordsDropped',
  RecordsRetried: 'RecordsRetried',
  RecordRetries: 'RecordRetries',
} as const;
export type RiposteMetric = (typeof RiposteMetric)[keyof typeof RiposteMetric];

export const DEFAULT_METRICS_NAMESPACE = 'Riposte';

/** One count, with at most one dimension besides the service. */
export interface MetricPoint {
  readonly name: RiposteMetric;
  readonly value: number;
  readonly dimension?: { readonly name: string; readonly value: string };
}

/** Where an invocation's counts go: CloudWatch (EMF on stdout) in Lambda, memory in tests. */
export interface MetricsSink {
  publish(points: readonly MetricPoint[]): void;
}

/**
 * One invocation's counts, summed by metric and dimension so that a batch
 * of ten records prints a few EMF lines, not one per run.
 */
export class MetricCounts {
  readonly #counts = new Map<string, MetricPoint>();

  add(name: RiposteMetric, value = 1, dimension?: { readonly name: string; readonly value: string }): void {
    const key = `${name}|${dimension?.name ?? ''}|${dimension?.value ?? ''}`;
    const previous = this.#counts.get(key)?.value ?? 0;
    this.#counts.set(key, { name, value: previous + value, ...(dimension === undefined ? {} : { dimension }) });
  }

  /** A run as this invocation left it: its outcome, its steps, the guard that stopped it, what did not get recorded. */
  addRun(run: PlaybookRunResult): void {
    this.add(RiposteMetric.Runs, 1, { name: 'outcome', value: run.status });
    for (const step of run.steps) {
      if (step.phase === 'run') this.add(RiposteMetric.Steps, 1, { name: 'result', value: step.status });
    }
    if (run.guard !== undefined) {
      this.add(RiposteMetric.GuardSkips, 1, { name: 'code', value: run.guard.code });
      if (run.guard.code === 'limit-reached') this.add(RiposteMetric.LimitTrips);
    }
    for (const [item, report] of Object.entries(run.recording ?? {})) {
      if (report.status === 'failed') this.add(RiposteMetric.RecordingFailures, 1, { name: 'item', value: item });
    }
  }

  /** Every finding of a delivery: findings skipped before matching, their runs, and the findings intake refused. */
  addDelivery(result: PipelineResult): void {
    for (const finding of result.findings) {
      if (finding.skipped !== undefined) this.add(RiposteMetric.GuardSkips, 1, { name: 'code', value: finding.skipped.code });
      for (const run of finding.runs) this.addRun(run);
    }
    if (result.rejected.length > 0) this.add(RiposteMetric.FindingsRejected, result.rejected.length);
  }

  points(): MetricPoint[] {
    return [...this.#counts.values()];
  }

  /** The sum of `name` (over one dimension value, when given): for logs and tests. */
  total(name: RiposteMetric, dimensionValue?: string): number {
    return this.points()
      .filter((point) => point.name === name && (dimensionValue === undefined || point.dimension?.value === dimensionValue))
      .reduce((sum, point) => sum + point.value, 0);
  }
}

/**
 * Powertools Metrics: EMF lines on stdout, which CloudWatch turns into
 * metrics without an API call. Counts with a dimension go out as single
 * metrics (EMF gives every metric of one line the same dimensions).
 */
export class PowertoolsMetricsSink implements MetricsSink {
  readonly #metrics: Metrics;

  constructor(metrics?: Metrics) {
    this.#metrics =
      metrics ??
      new Metrics({
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
        serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'riposte',
      });
  }

  publish(points: readonly MetricPoint[]): void {
    let plain = 0;
    for (const point of points) {
      if (point.dimension === undefined) {
        this.#metrics.addMetric(point.name, MetricUnit.Count, point.value);
        plain += 1;
        continue;
      }
      const single = this.#metrics.singleMetric();
      single.addDimension(point.dimension.name, point.dimension.value);
      single.addMetric(point.name, MetricUnit.Count, point.value);
    }
    // Publishing nothing makes Powertools warn "no application metrics": only flush what was added.
    if (plain > 0) this.#metrics.publishStoredMetrics();
  }
}

/** Keeps every published point: the tests' view of what an invocation counted. */
export class MemoryMetricsSink implements MetricsSink {
  readonly published: MetricPoint[] = [];

  publish(points: readonly MetricPoint[]): void {
    this.published.push(...points);
  }

  /** The sum of `name` over everything published (over one dimension value, when given). */
  total(name: RiposteMetric, dimensionValue?: string): number {
    return this.published.filter((point) => point.name === name && (dimensionValue === undefined || point.dimension?.value === dimensionValue)).reduce((sum, point) => sum + point.value, 0);
  }
}
