import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Turns on termination protection and sets shutdown behaviour to `stop`, so
 * the evidence on the instance survives.
 *
 * ```yaml
 * - ec2.enable-termination-protection: {}
 * ```
 */
export const enableTerminationProtection = defineAction({
  name: 'ec2.enable-termination-protection',
  description: 'Enable termination protection and set shutdown behaviour to stop',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: ['ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
