import { describe, expect, it } from 'vitest';

import { IndexedMatcher, NaiveMatcher, PlaybookIndex } from '../../src/engine/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { compilePlaybooks, loadPlaybooks } from '../../src/playbooks/index.js';
import { fixture } from '../support/fixtures.js';

const playbook = (id: string, priority: number, match: string): string => `id: ${id}
title: ${id}
priority: ${priority}
triggers: { automatic: true }
match: ${match}
steps:
  - notify: {}
`;

const guardDuty = (): Finding => readEvent(fixture('guardduty-ec2-backdoor.json')).findings[0] as Finding;

describe('PlaybookIndex', () => {
  it('names only the playbooks a finding could match', async () => {
    const { playbooks } = await loadPlaybooks('playbooks');
    const index = new PlaybookIndex(playbooks);

    const candidates = index.candidates(guardDuty()).map((position) => playbooks[position]?.playbook.id);

    expect(candidates).toEqual(['ec2-compromise-isolate']);
  });

  it('files a playbook under a prefix of types when that is its rarest requirement', () => {
    const playbooks = compilePlaybooks([
      { path: 'a.yml', text: playbook('backdoor', 1, '{ types: { prefix: "Backdoor:EC2/" } }') },
      { path: 'b.yml', text: playbook('crypto', 1, '{ types: { prefix: "CryptoCurrency:" } }') },
    ]);
    const index = new PlaybookIndex(playbooks);

    expect(index.candidates(guardDuty())).toEqual([0]);
  });
});

describe('IndexedMatcher and NaiveMatcher', () => {
  const playbooks = compilePlaybooks([
    { path: 'p.yml', text: playbook('low', 1, '{ product.id: guardduty }') },
    { path: 'q.yml', text: playbook('high', 50, '{ severity.normalized: { gte: 70 } }') },
    { path: 'r.yml', text: playbook('mid', 10, '{ resource.type: AwsEc2Instance, not: { account: "999999999999" } }') },
    { path: 's.yml', text: playbook('never', 5, '{ source: config }') },
  ]);

  it.each([
    ['IndexedMatcher', () => new IndexedMatcher(playbooks)],
    ['NaiveMatcher', () => new NaiveMatcher(playbooks)],
  ])('%s returns matches by priority, highest first', async (_, make) => {
    const matches = await make().match(guardDuty());

    expect(matches.map((match) => match.playbook.playbook.id)).toEqual(['high', 'mid', 'low']);
  });

  it.each([
    ['IndexedMatcher', () => new IndexedMatcher(playbooks)],
    ['NaiveMatcher', () => new NaiveMatcher(playbooks)],
  ])('%s gives the same answers to concurrent calls as to sequential ones', async (_, make) => {
    const matcher = make();
    const findings = Array.from({ length: 40 }, (_, i) => {
      const event = fixture<{ detail: { severity: number } }>('guardduty-ec2-backdoor.json');
      event.detail.severity = 1 + (i % 10) * 0.9;
      return readEvent(event).findings[0] as Finding;
    });

    const sequential: string[][] = [];
    for (const finding of findings) sequential.push((await matcher.match(finding)).map((m) => m.playbook.playbook.id));
    const concurrent = await Promise.all(findings.map(async (finding) => (await matcher.match(finding)).map((m) => m.playbook.playbook.id)));

    expect(concurrent).toEqual(sequential);
    expect(new Set(sequential.map((ids) => ids.join()))).toEqual(new Set(['mid,low', 'high,mid,low']));
  });
});
