import { describe, expect, it } from 'vitest';

import { stepOrderOf } from '../../src/actions/index.js';
import { collectionTimingOf } from '../../src/actions/ssm-collect-evidence.js';

type Step = { action: string; params: Record<string, unknown>; concurrent: boolean };
const step = (action: string, params: Record<string, unknown> = {}, concurrent = false): Step => ({ action, params, concurrent });
const names = (steps: readonly { action: string }[]) => steps.map((entry) => entry.action);

describe('stepOrderOf: where a step stands among its playbook’s steps', () => {
  const steps = [step('a'), step('b', {}, true), step('c', {}, true), step('d'), step('e', {}, true), step('f')];

  it('puts the steps of its concurrent group beside it, earlier groups before and later groups after', () => {
    expect(stepOrderOf(steps, 1)).toEqual({
      before: [],
      beside: [
        { action: 'a', params: {} },
        { action: 'c', params: {} },
      ],
      after: [
        { action: 'd', params: {} },
        { action: 'e', params: {} },
        { action: 'f', params: {} },
      ],
    });
    const order = stepOrderOf(steps, 3);
    expect([names(order.before), names(order.beside), names(order.after)]).toEqual([['a', 'b', 'c'], ['e'], ['f']]);
  });

  it('gives a step alone in its group nothing beside it', () => {
    const order = stepOrderOf(steps, 5);
    expect([names(order.before), names(order.beside), names(order.after)]).toEqual([['a', 'b', 'c', 'd', 'e'], [], []]);
  });
});

describe('collectionTimingOf: collection before isolation, through the endpoints, or none', () => {
  const collect = step('ssm.collect-evidence');
  const timing = (steps: Step[]) => collectionTimingOf(stepOrderOf(steps, steps.indexOf(collect)));

  it('is before isolation when every ec2.isolate starts after the collection has ended', () => {
    expect(timing([step('ec2.detach-instance-profile'), collect, step('ec2.isolate')])).toEqual({ kind: 'before-isolation' });
  });

  it('is through the endpoints when the isolation before it opens the quarantine to them', () => {
    expect(timing([step('ec2.isolate', { ssmEndpoints: true }), step('ec2.detach-instance-profile', {}, true), collect])).toEqual({ kind: 'through-endpoints' });
  });

  it('is none when an isolation before or beside it allows no egress, and says how to order it instead', () => {
    const after = timing([step('ec2.isolate', { ssmEndpoints: false }), collect]);
    expect(after).toMatchObject({ kind: 'none' });
    expect(after.kind === 'none' && after.reason).toMatch(/^ec2\.isolate runs before this step .*order ssm\.collect-evidence before ec2\.isolate, or give ec2\.isolate ssmEndpoints: true/);
    expect(timing([step('ec2.isolate', { ssmEndpoints: true }), step('ec2.isolate', {}, true), collect])).toMatchObject({ kind: 'none' });
    expect(timing([step('ec2.detach-instance-profile'), step('ec2.isolate', {}, true), step('x', {}, false), collect, step('ec2.isolate', { ssmEndpoints: true })])).toMatchObject({ kind: 'none' });
    const besideCollect = step('ssm.collect-evidence', {}, true);
    const steps = [step('ec2.isolate'), besideCollect];
    const beside = collectionTimingOf(stepOrderOf(steps, 1));
    expect(beside.kind === 'none' && beside.reason).toMatch(/^ec2\.isolate runs beside this step/);
  });

  it('is unisolated when the playbook does not isolate, or no order is known', () => {
    expect(timing([step('ec2.detach-instance-profile'), collect])).toEqual({ kind: 'unisolated' });
    expect(collectionTimingOf(undefined)).toEqual({ kind: 'unisolated' });
  });
});
