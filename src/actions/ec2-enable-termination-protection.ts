import { DescribeInstanceAttributeCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { instanceIdOf, onInstance } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

/** The two attributes this action sets. */
export interface TerminationAttributes {
  readonly disableApiTermination: boolean;
  readonly instanceInitiatedShutdownBehavior: string;
}

/** The attributes as they were before the run, restored by rollback. */
export type TerminationProtectionUndo = { readonly instanceId: string; readonly previous: TerminationAttributes };

const ACTION = 'ec2.enable-termination-protection';
const WANTED: TerminationAttributes = { disableApiTermination: true, instanceInitiatedShutdownBehavior: 'stop' };
const FIELDS = ['disableApiTermination', 'instanceInitiatedShutdownBehavior'] as const satisfies readonly (keyof TerminationAttributes)[];

async function currentAttributes(context: ActionContext, instanceId: string): Promise<TerminationAttributes> {
  const ec2 = context.clients.create(EC2Client, context.target);
  return onInstance(ACTION, context, instanceId, async () => {
    // One attribute a call, both asked at once.
    const [termination, shutdown] = await Promise.all([
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' })),
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
    ]);
    return {
      disableApiTermination: termination.DisableApiTermination?.Value ?? false,
      // EBS-backed instances default to `stop`.
      instanceInitiatedShutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? 'stop',
    };
  });
}

function changesBetween(current: TerminationAttributes, next: TerminationAttributes): PlannedChange[] {
  return FIELDS.filter((field) => current[field] !== next[field]).map((field) => ({ field, from: current[field], to: next[field] }));
}

/**
 * Sets the attributes in `changes`, one ModifyInstanceAttribute call each (EC2
 * takes one attribute per call). Termination protection goes in the
 * `DisableApiTermination: { Value }` form, shutdown behaviour in the
 * `Attribute` + `Value` form: the emulator (moto 5.2.1) ignores the
 * `InstanceInitiatedShutdownBehavior: { Value }` form and clears the
 * instance's security groups instead, and does not enforce termination
 * protection set through `Attribute: 'disableApiTermination'`. Both forms
 * used here are valid AWS requests.
 */
async function apply(context: ActionContext, instanceId: string, changes: readonly PlannedChange[]): Promise<void> {
  const ec2 = context.clients.create(EC2Client, context.target);
  await onInstance(ACTION, context, instanceId, async () => {
    for (const change of changes) {
      if (change.field === 'disableApiTermination') {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: change.to as boolean } }));
      } else {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior', Value: change.to as string }));
      }
    }
  });
}

const describeChanges = (changes: readonly PlannedChange[]): string => changes.map((c) => `${c.field} ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join(', ');

/**
 * Turns on termination protection and sets shutdown behaviour to `stop`, so
 * the evidence on the instance survives.
 *
 * ```yaml
 * - ec2.enable-termination-protection: {}
 * ```
 */
export const enableTerminationProtection = defineAction({
  name: ACTION,
  description: 'Enable termination protection and set shutdown behaviour to stop',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: ['ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const changes = changesBetween(await currentAttributes(context, instanceId), WANTED);
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: changes.length === 0,
        summary: changes.length === 0 ? `instance ${instanceId}: termination protection already on, shutdown behaviour already stop` : `instance ${instanceId}: would set ${describeChanges(changes)}`,
        changes,
      };
    },
    async run(context) {
      const instanceId = instanceIdOf(ACTION, context);
      // Read again, not the plan's reading: the state may have moved since.
      const current = await currentAttributes(context, instanceId);
      const changes = changesBetween(current, WANTED);
      if (changes.length === 0) {
        return {
          action: ACTION,
          resource: instanceArnOf(context, instanceId),
          changed: false,
          summary: `instance ${instanceId}: termination protection already on; nothing changed`,
          changes,
        };
      }
      await apply(context, instanceId, changes);
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        changed: true,
        summary: `instance ${instanceId}: set ${describeChanges(changes)}`,
        changes,
        undo: { instanceId, previous: current },
      };
    },
    async verify(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const failing = changesBetween(await currentAttributes(context, instanceId), WANTED);
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `instance ${instanceId}: termination protection on, shutdown behaviour stop`
            : `instance ${instanceId}: still ${failing.map((c) => `${c.field} ${JSON.stringify(c.from)}`).join(', ')}`,
      };
    },
    undoOfPlanned(context, planned) {
      const previous = (field: keyof TerminationAttributes) => planned.find((change) => change.field === field)?.from ?? WANTED[field];
      const disableApiTermination = previous('disableApiTermination');
      const instanceInitiatedShutdownBehavior = previous('instanceInitiatedShutdownBehavior');
      if (typeof disableApiTermination !== 'boolean' || typeof instanceInitiatedShutdownBehavior !== 'string') return undefined;
      return { instanceId: instanceIdOf(ACTION, context), previous: { disableApiTermination, instanceInitiatedShutdownBehavior } };
    },
    async rollback(context, undo: TerminationProtectionUndo) {
      const current = await currentAttributes(context, undo.instanceId);
      const changes = changesBetween(current, undo.previous);
      await apply(context, undo.instanceId, changes);
      return {
        action: ACTION,
        resource: instanceArnOf(context, undo.instanceId),
        changed: changes.length > 0,
        summary: changes.length === 0 ? `instance ${undo.instanceId}: attributes already as before the run` : `instance ${undo.instanceId}: restored ${describeChanges(changes)}`,
        changes,
      };
    },
  },
});
