import { describe, expect, it } from 'vitest';

import { EvidenceBucketNotInRegionError } from '../../src/actions/evidence-errors.js';
import { evidenceBucketOf, evidenceBucketsOf } from '../../src/actions/evidence-store.js';
import { EvidenceBucketNotConfiguredError } from '../../src/actions/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { AwsClientFactory } from '../../src/aws/index.js';

/** A step's context in `region`, with the hosting side in us-east-1 (no call is made). */
function contextIn(region: string, hosting: { evidenceBucket?: string; evidenceBuckets?: Record<string, string> }): ActionContext {
  return {
    hosting: { factory: new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 }), ...hosting },
    target: { account: '222222222222', region, partition: 'aws', correlationId: 'c-1' },
    resource: { type: 'AwsEc2Instance', id: 'i-0abc', instanceId: 'i-0abc', arn: `arn:aws:ec2:${region}:222222222222:instance/i-0abc` },
    runId: 'r-1',
  } as unknown as ActionContext;
}

describe("evidence buckets: the instance's own Region's, never another's", () => {
  it('takes RIPOSTE_EVIDENCE_BUCKET as the hosting Region’s, and each Region’s own from the map (which wins there)', () => {
    const hosting = { evidenceBucket: 'home', evidenceBuckets: { 'eu-west-1': 'eu' } };
    expect(evidenceBucketOf('ec2.capture-metadata', contextIn('us-east-1', hosting))).toBe('home');
    expect(evidenceBucketOf('ec2.capture-metadata', contextIn('eu-west-1', hosting))).toBe('eu');
    expect(evidenceBucketsOf(contextIn('eu-west-1', { evidenceBucket: 'home', evidenceBuckets: { 'us-east-1': 'other-home' } }))).toEqual({ 'us-east-1': 'other-home' });
  });

  it('refuses a Region without a bucket, naming it and the Regions that have one, even when the home Region has one', () => {
    const error = (() => {
      try {
        return evidenceBucketOf('ec2.capture-metadata', contextIn('ap-southeast-2', { evidenceBucket: 'home' }));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EvidenceBucketNotInRegionError);
    expect(error).toMatchObject({
      region: 'ap-southeast-2',
      configuredRegions: ['us-east-1'],
      context: { region: 'ap-southeast-2', resource: 'arn:aws:ec2:ap-southeast-2:222222222222:instance/i-0abc' },
    });
  });

  it('says no bucket is configured at all when none is', () => {
    expect(() => evidenceBucketOf('ec2.capture-metadata', contextIn('us-east-1', { evidenceBuckets: {} }))).toThrow(EvidenceBucketNotConfiguredError);
  });
});
