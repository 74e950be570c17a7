import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Publishes the run's outcome to the SNS topic (the deployment's by default).
 *
 * ```yaml
 * - notify: { subject: "Instance isolated" }
 * ```
 */
export const notify = defineAction({
  name: 'notify',
  description: "Publish the run's outcome to SNS",
  params: z.strictObject({
    topicArn: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN').optional(),
    subject: z.string().min(1).max(100).optional(),
  }),
  target: 'finding',
  permissions: { member: [], hosting: ['sns:Publish'] },
  changesResources: false,
  reversible: false,
});
