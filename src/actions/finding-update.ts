import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Writes a note and workflow status on the Security Hub finding.
 *
 * ```yaml
 * - finding.update: { workflow: NOTIFIED, note: "Isolated by Riposte" }
 * ```
 */
export const updateFinding = defineAction({
  name: 'finding.update',
  description: 'Set the Security Hub finding note and workflow status',
  params: z
    .strictObject({
      workflow: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']).optional(),
      note: z.string().min(1).max(512).optional(),
    })
    .refine((params) => params.workflow !== undefined || params.note !== undefined, 'needs workflow or note'),
  target: 'finding',
  permissions: { member: [], hosting: ['securityhub:BatchUpdateFindings'] },
  changesResources: false,
  reversible: false,
});
