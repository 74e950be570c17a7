import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Captures the instance's description, volumes, interfaces, groups, profile,
 * tags, console output and screenshot as evidence objects with SHA-256
 * digests in the evidence bucket.
 *
 * ```yaml
 * - ec2.capture-metadata: { consoleOutput: true, screenshot: false }
 * ```
 */
export const captureMetadata = defineAction({
  name: 'ec2.capture-metadata',
  description: 'Capture instance metadata and console output as evidence with SHA-256 digests',
  params: z.strictObject({
    consoleOutput: z.boolean().default(true),
    screenshot: z.boolean().default(true),
  }),
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:GetConsoleOutput',
      'ec2:GetConsoleScreenshot',
    ],
    hosting: ['s3:PutObject'],
  },
  changesResources: false,
  reversible: false,
});
