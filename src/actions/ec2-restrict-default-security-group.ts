import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Empties a VPC's default security group (all inbound and outbound rules),
 * recording the rules it removed (EC2.2).
 *
 * ```yaml
 * - ec2.restrict-default-security-group: {}
 * ```
 */
export const restrictDefaultSecurityGroup = defineAction({
  name: 'ec2.restrict-default-security-group',
  description: "Remove every rule from a VPC's default security group",
  params: z.strictObject({}),
  target: 'security-group',
  permissions: {
    member: [
      'ec2:DescribeSecurityGroups',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
    ],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
