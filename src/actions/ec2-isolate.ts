import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Moves every network interface of the instance to a quarantine security
 * group (no inbound, no outbound rules), first through an allow-all group so
 * tracked connections become untracked and are cut.
 *
 * ```yaml
 * - ec2.isolate: { allowAllFirst: true }
 * ```
 */
export const isolateInstance = defineAction({
  name: 'ec2.isolate',
  description: 'Isolate an EC2 instance: every interface to a quarantine security group with no rules',
  params: z.strictObject({
    /** Move interfaces to an allow-all group first, so tracked connections are cut. */
    allowAllFirst: z.boolean().default(true),
    quarantineGroupName: z
      .string()
      .regex(/^[\w .:/()#,@[\]+=&;{}!$*-]{1,255}$/, 'must be a valid security group name')
      .refine((name) => !name.toLowerCase().startsWith('sg-'), 'must not start with sg-')
      .default('riposte-quarantine'),
  }),
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:CreateSecurityGroup',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:CreateTags',
    ],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
