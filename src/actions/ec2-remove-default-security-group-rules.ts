import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Empties a VPC's default security group (all inbound and outbound rules),
 * recording the rules it removed (EC2.2).
 *
 * ```yaml
 * - ec2.remove-default-security-group-rules: {}
 * ```
 */
export const removeDefaultSecurityGroupRules = defineAction({
  name: 'ec2.remove-default-security-group-rules',
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
