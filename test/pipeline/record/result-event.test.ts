import { describe, expect, it } from 'vitest';

import { EVENT_MAX_BYTES, eventEntryBytes, RESULT_EVENT_DETAIL_TYPE, resultEventEntry, ResultEventTooLargeError, type ResultEventDetail } from '../../../src/pipeline/record/index.js';
import { hugeSummary, passwordPolicySummary } from './summaries.js';

const target = { busName: 'riposte-results', region: 'us-east-1' };
const detailOf = (entry: { Detail: string }): ResultEventDetail => JSON.parse(entry.Detail) as ResultEventDetail;

describe('resultEventEntry', () => {
  it('carries the summary as detail and the finding’s resource ARNs as resources', () => {
    const summary = hugeSummary(2, 10);

    const entry = resultEventEntry(target, summary);

    expect(entry).toMatchObject({
      EventBusName: 'riposte-results',
      Source: 'riposte',
      DetailType: RESULT_EVENT_DETAIL_TYPE,
      Resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718'],
    });
    expect(detailOf(entry)).toEqual(summary);
  });

  it('leaves out resources that are not ARNs (an account) and takes another source', () => {
    const entry = resultEventEntry({ ...target, source: 'riposte.staging' }, passwordPolicySummary());

    expect(entry.Source).toBe('riposte.staging');
    expect(entry).not.toHaveProperty('Resources');
  });

  it('drops change values first when a run is too big, and says truncated', () => {
    const summary = hugeSummary(60, 8_000);
    expect(JSON.stringify(summary).length).toBeGreaterThan(EVENT_MAX_BYTES);

    const entry = resultEventEntry(target, summary);
    const detail = detailOf(entry);

    expect(eventEntryBytes(entry)).toBeLessThan(EVENT_MAX_BYTES);
    expect(detail.truncated).toBe(true);
    expect(detail.steps).toHaveLength(60);
    expect(detail.steps[59]).toMatchObject({ index: 59, summary: expect.stringMatching(/^step 59: s+$/) });
    expect(detail.steps[59]?.changes?.[0]).toMatchObject({ field: 'SecurityGroups', from: expect.stringMatching(/^"x+…$/), to: ['sg-0123456789abcdef0'] });
  });

  it('then drops changes and step summaries, and at last steps, counting what went', () => {
    const withoutChanges = detailOf(resultEventEntry(target, hugeSummary(800, 2_000)));
    const withoutSteps = detailOf(resultEventEntry(target, hugeSummary(20_000, 10)));

    expect(withoutChanges.steps).toHaveLength(800);
    expect(withoutChanges.steps.every((step) => step.changes === undefined)).toBe(true);
    expect(withoutSteps).toMatchObject({ truncated: true, summary: 'instance isolated' });
    expect(withoutSteps.steps.length).toBeGreaterThan(1_000);
    expect(withoutSteps.steps.length + (withoutSteps.omittedSteps ?? 0)).toBe(20_000);
    expect(withoutSteps.steps.every((step) => step.summary === '' && step.changes === undefined)).toBe(true);
  });

  it('drops resources from the end when they alone are too many', () => {
    const summary = hugeSummary(3, 10);
    summary.finding.resources = Array.from({ length: 5_000 }, (_, index) => ({ type: 'AwsEc2Instance', id: `arn:aws:ec2:us-east-1:111122223333:instance/i-${String(index).padStart(17, '0')}` }));

    const entry = resultEventEntry(target, summary);
    const detail = detailOf(entry);

    expect(eventEntryBytes(entry)).toBeLessThan(EVENT_MAX_BYTES);
    expect(detail).toMatchObject({ truncated: true, steps: [], omittedSteps: 3 });
    expect(detail.finding.resources.length + (detail.omittedResources ?? 0)).toBe(5_000);
    expect(entry.Resources).toEqual(detail.finding.resources.map((resource) => resource.id));
  });

  it('fails with a typed error naming the run when nothing can make it fit', () => {
    const summary = hugeSummary(1, 10);
    summary.finding.id = `arn:aws:securityhub:us-east-1:111122223333:finding/${'f'.repeat(EVENT_MAX_BYTES)}`;

    const error: unknown = (() => {
      try {
        return resultEventEntry(target, summary);
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(ResultEventTooLargeError);
    expect(error).toMatchObject({ retryable: false, context: { runId: 'run-0001', playbook: 'ec2-compromise-isolate', region: 'us-east-1', resource: 'riposte-results', account: '111122223333' } });
  });
});
