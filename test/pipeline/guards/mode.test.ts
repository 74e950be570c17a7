import { describe, expect, it } from 'vitest';

import type { Finding, Trigger } from '../../../src/intake/index.js';
import type { Playbook } from '../../../src/playbooks/index.js';
import { decideMode } from '../../../src/pipeline/guards/mode.js';

const finding = (trigger: Trigger): Finding => ({ trigger }) as unknown as Finding;
const playbook = (mode: Playbook['mode'] = 'default'): Playbook => ({ id: 'p', mode }) as unknown as Playbook;
const automatic: Trigger = { kind: 'automatic' };
const customAction: Trigger = { kind: 'custom-action', actionId: 'IsolateEc2', actionName: 'Isolate instance', actionArn: 'arn:aws:securityhub:us-east-1:123456789012:action/custom/IsolateEc2' };
const api = (dryRun: boolean): Trigger => ({ kind: 'api', requestedBy: { principal: 'arn:aws:iam::123456789012:user/analyst' }, requestId: 'r-1', dryRun });

describe('decideMode', () => {
  it.each([
    ['off', 'off'],
    ['plan', 'plan'],
    ['enforce', 'enforce'],
  ] as const)('runs automatic deliveries as the deployment says (automatic: %s → %s)', (setting, mode) => {
    expect(decideMode(finding(automatic), playbook(), setting).mode).toBe(mode);
  });

  it.each(['off', 'plan', 'enforce'] as const)('enforces a custom action and an API request whatever the automatic setting (%s)', (setting) => {
    expect(decideMode(finding(customAction), playbook(), setting)).toMatchObject({ mode: 'enforce', reason: expect.stringContaining('IsolateEc2') });
    expect(decideMode(finding(api(false)), playbook(), setting)).toMatchObject({ mode: 'enforce', reason: expect.stringContaining('analyst') });
  });

  it('plans an API request that asks for a dry run, and anything under a pipeline dry run', () => {
    expect(decideMode(finding(api(true)), playbook(), 'enforce').mode).toBe('plan');
    expect(decideMode(finding(customAction), playbook(), 'enforce', true).mode).toBe('plan');
  });

  it('never lets a plan-only playbook change anything', () => {
    for (const trigger of [automatic, customAction, api(false)]) {
      expect(decideMode(finding(trigger), playbook('plan'), 'enforce')).toMatchObject({ mode: 'plan', reason: expect.stringContaining('plan-only') });
    }
  });

  it('keeps automatic: off above a plan-only playbook (off means not at all)', () => {
    expect(decideMode(finding(automatic), playbook('plan'), 'off').mode).toBe('off');
  });

  describe('sample findings (issue 11, case 8)', () => {
    const sample = (trigger: Trigger): Finding => ({ trigger, sample: { reason: 'GuardDuty service.additionalInfo.sample is true' } }) as unknown as Finding;
    const opted = (allow: boolean): Playbook => ({ id: 'p', mode: 'default', allowSampleFindings: allow }) as unknown as Playbook;

    it('plans a GuardDuty sample finding whoever asks, saying why, unless the playbook sets allowSampleFindings', () => {
      for (const trigger of [automatic, customAction, api(false)]) {
        expect(decideMode(sample(trigger), opted(false), 'enforce')).toEqual({
          mode: 'plan',
          reason: expect.stringMatching(/sample \(GuardDuty service\.additionalInfo\.sample is true\).*allowSampleFindings: true/),
        });
      }
      expect(decideMode(sample(automatic), opted(true), 'enforce').mode).toBe('enforce');
      expect(decideMode(sample(customAction), opted(true), 'plan').mode).toBe('enforce');
    });

    it('keeps automatic: off above a sample (off means not at all)', () => {
      expect(decideMode(sample(automatic), opted(false), 'off').mode).toBe('off');
    });
  });
});
