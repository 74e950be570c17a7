import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Snapshots every EBS volume attached to the instance, tagged as evidence,
 * and optionally shares the snapshots with a forensics account.
 *
 * ```yaml
 * - ec2.snapshot-volumes: { copyTags: true, shareWithAccount: "444455556666" }
 * ```
 */
export const snapshotVolumes = defineAction({
  name: 'ec2.snapshot-volumes',
  description: 'Snapshot every attached EBS volume as tagged evidence, optionally shared with a forensics account',
  params: z.strictObject({
    copyTags: z.boolean().default(true),
    shareWithAccount: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  }),
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ec2:DescribeSnapshots',
      'ec2:CreateSnapshot',
      'ec2:CreateSnapshots',
      'ec2:CreateTags',
      'ec2:ModifySnapshotAttribute',
    ],
    hosting: [],
  },
  changesResources: false,
  reversible: false,
});
