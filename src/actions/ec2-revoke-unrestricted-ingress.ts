import { z } from 'zod';

import { defineAction } from './registry.js';

const cidr = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, 'must be an IPv4 or IPv6 CIDR');

/**
 * Revokes ingress rules of a security group that open the given ports to
 * the whole internet (0.0.0.0/0, ::/0), recording each removed rule.
 *
 * ```yaml
 * - ec2.revoke-unrestricted-ingress: { ports: [22, 3389] }
 * ```
 */
export const revokeUnrestrictedIngress = defineAction({
  name: 'ec2.revoke-unrestricted-ingress',
  description: 'Revoke security group ingress open to 0.0.0.0/0 or ::/0 on the given ports',
  params: z.strictObject({
    ports: z.array(z.number().int().min(0).max(65535)).min(1).default([22, 3389]),
    cidrs: z.array(cidr).min(1).default(['0.0.0.0/0', '::/0']),
  }),
  target: 'security-group',
  permissions: {
    member: [
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSecurityGroupRules',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupIngress',
    ],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
