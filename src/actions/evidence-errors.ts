import { RiposteError } from '../errors.js';
import { stepResourceOf } from './arns.js';
import type { ActionContext } from './runtime.js';

/**
 * Evidence buckets are configured, but none in the Region of the instance
 * the evidence is about. Evidence stays in its Region: it is not sent to
 * another Region's bucket. Deploy the evidence bucket template in that
 * Region and add it to `RIPOSTE_EVIDENCE_BUCKETS`; retrying cannot help.
 */
export class EvidenceBucketNotInRegionError extends RiposteError {
  override readonly name: string = 'EvidenceBucketNotInRegionError';
  readonly code = 'ACTION_EVIDENCE_BUCKET_NOT_IN_REGION';
  /** The Region with no evidence bucket. */
  readonly region: string;
  /** The Regions that have one. */
  readonly configuredRegions: readonly string[];
  constructor(action: string, context: ActionContext, configuredRegions: readonly string[]) {
    const { account, region } = context.target;
    super(
      `${action}: no evidence bucket is configured in region ${region} (evidence buckets are configured in ${configuredRegions.join(', ')}); evidence about ${context.resource.instanceId ?? context.resource.id} stays in its region, so it is not stored: add a bucket for ${region} to RIPOSTE_EVIDENCE_BUCKETS`,
      { context: { account, region, resource: stepResourceOf(context), step: action, field: 'RIPOSTE_EVIDENCE_BUCKETS' }, retryable: false },
    );
    this.region = region;
    this.configuredRegions = configuredRegions;
  }
}
