import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Runs an SSM document on a managed instance for OS-level collection.
 *
 * ```yaml
 * - ssm.run-command: { commands: ["ps auxww", "ss -tanp"] }
 * ```
 */
export const runCommand = defineAction({
  name: 'ssm.run-command',
  description: 'Run an SSM Run Command document on the instance (OS-level evidence collection)',
  params: z.strictObject({
    document: z.string().min(1).default('AWS-RunShellScript'),
    commands: z.array(z.string().min(1)).min(1),
    timeoutSeconds: z.number().int().min(30).max(172_800).default(600),
  }),
  target: 'instance',
  permissions: {
    member: ['ssm:DescribeInstanceInformation', 'ssm:SendCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'],
    hosting: [],
  },
  changesResources: false,
  reversible: false,
});
