import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readEvent } from '../src/intake/index.js';
import { operationsPerSecond, result, type Benchmark } from './harness.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'events');

const CASES = [
  ['intake-asff-cis-control', 'securityhub-imported-cis-password-policy.json'],
  ['intake-asff-guardduty', 'securityhub-imported-guardduty-ec2.json'],
  ['intake-ocsf-compliance', 'securityhub-v2-ocsf-compliance.json'],
  ['intake-guardduty-native', 'guardduty-ec2-backdoor.json'],
  ['intake-config-rule', 'config-compliance-password-policy.json'],
] as const;

/**
 * Intake throughput per source, from the JSON text a Lambda or queue hands
 * over. The baseline is `JSON.parse` of the same text — the least any reader
 * must do — so the ratio shows what validation and normalization cost on top.
 */
export const intakeBenchmark: Benchmark = {
  name: 'intake',
  baseline: 'JSON.parse of the same event',
  run() {
    return CASES.map(([name, file]) => {
      const text = readFileSync(join(fixtures, file), 'utf8');
      const baseline = operationsPerSecond(() => JSON.parse(text));
      const value = operationsPerSecond(() => readEvent(text));
      return result(name, value, 'events/s', baseline);
    });
  },
};
