import {
  AttachInstancesCommand,
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
} from '@aws-sdk/client-auto-scaling';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { instanceIdOf } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, ActionOutcome, PlannedChange } from './runtime.js';
import { AutoScalingInstanceUnprotectedError } from './traffic-errors.js';

const ACTION = 'autoscaling.standby-instance';

/** Where the instance stands in Auto Scaling: its group and lifecycle state, or no group. */
type Membership = { readonly groupName: string; readonly lifecycleState: string } | undefined;

/** How the run took the instance out of its group. */
export type StandbyHow = 'standby' | 'detached';

/** What rollback restores: the instance back in service in `groupName`. */
export type StandbyInstanceUndo = { readonly instanceId: string; readonly groupName: string; readonly how: StandbyHow };

/**
 * Lifecycle states in which the group no longer health-checks the instance,
 * replaces it or scales it in: on standby, or leaving the group.
 */
const OUT_OF_SERVICE = new Set(['EnteringStandby', 'Standby', 'Detaching', 'Detached']);

/** The field a change names: one per group (an instance belongs to one group at most). */
const fieldOf = (groupName: string): string => `autoScalingGroups.${groupName}`;

/**
 * The instance's group and lifecycle state (DescribeAutoScalingInstances):
 * one call, and the only read on the containment path. An instance in no
 * group, or unknown to Auto Scaling, is answered with no entry.
 */
async function membership(context: ActionContext, instanceId: string): Promise<Membership> {
  const autoscaling = context.clients.create(AutoScalingClient, context.target);
  const { AutoScalingInstances: instances = [] } = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  const found = instances.find((candidate) => candidate.InstanceId === instanceId);
  if (found?.AutoScalingGroupName === undefined) return undefined;
  return { groupName: found.AutoScalingGroupName, lifecycleState: found.LifecycleState ?? 'unknown' };
}

/** The group's capacity as rollback reports it; undefined when the group is gone. */
async function capacity(context: ActionContext, groupName: string): Promise<string | undefined> {
  const autoscaling = context.clients.create(AutoScalingClient, context.target);
  const { AutoScalingGroups: groups = [] } = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
  const group = groups.find((candidate) => candidate.AutoScalingGroupName === groupName);
  return group === undefined ? undefined : `desired capacity ${group.DesiredCapacity} (min ${group.MinSize}, max ${group.MaxSize})`;
}

/** Auto Scaling refuses a request it cannot carry out in the instance's or group's present state with `ValidationError`. */
const isRefusal = (error: unknown): boolean => error instanceof AutoScalingServiceException && error.name === 'ValidationError';

/**
 * Takes the instance out of service in its group: Standby without
 * decrementing the desired capacity, or, where the group refuses Standby,
 * detached without decrementing it. Either way the group launches a
 * replacement and no longer health-checks, replaces or scales in this one.
 * @throws AutoScalingInstanceUnprotectedError when the group refuses both
 */
async function takeOut(context: ActionContext, instanceId: string, groupName: string): Promise<StandbyHow> {
  const autoscaling = context.clients.create(AutoScalingClient, context.target);
  try {
    await autoscaling.send(new EnterStandbyCommand({ AutoScalingGroupName: groupName, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }));
    return 'standby';
  } catch (refused) {
    if (!isRefusal(refused)) throw refused;
    try {
      await autoscaling.send(new DetachInstancesCommand({ AutoScalingGroupName: groupName, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }));
      return 'detached';
    } catch (error) {
      throw new AutoScalingInstanceUnprotectedError(
        ACTION,
        context,
        { instanceId, groupName, lifecycleState: 'InService' },
        new AggregateError([refused, error], `EnterStandby: ${(refused as Error).message}; DetachInstances: ${(error as Error).message}`),
      );
    }
  }
}

function describeMembership(instanceId: string, member: Membership): string {
  if (member === undefined) return `instance ${instanceId} is in no Auto Scaling group`;
  return `instance ${instanceId} is ${member.lifecycleState} in Auto Scaling group ${member.groupName}`;
}

/**
 * Takes an EC2 instance out of its Auto Scaling group before the quarantine
 * can fail a health check, so that the group does not terminate it (and the
 * volumes it deletes on termination): Standby, with the desired capacity
 * kept (`ShouldDecrementDesiredCapacity: false`), so the group launches a
 * replacement and leaves this instance alone. Where the group refuses
 * Standby (a `ValidationError`), the instance is detached instead, again
 * without decrementing. An instance in no group: nothing to do.
 *
 * Amazon EC2 Auto Scaling accepts both only for an `InService` instance; an
 * instance that is `Pending` (launching, or held by a launch lifecycle hook),
 * terminating or in a warm pool cannot be taken out, and the step fails with
 * AutoScalingInstanceUnprotectedError (retryable while `Pending`).
 *
 * On the containment path: DescribeAutoScalingInstances, then EnterStandby
 * (DetachInstances after a refusal): two calls in two round trips.
 *
 * Rollback puts the instance back in service in the same group: ExitStandby,
 * or AttachInstances after a detach. Auto Scaling raises the desired capacity
 * by one on either (as its API reference says), so the replacement launched
 * during containment stays until the group scales in; the rollback says so.
 * An instance that was already on standby before the run is left there.
 *
 * ```yaml
 * - autoscaling.standby-instance: {}
 * ```
 */
export const standbyInstance = defineAction({
  name: ACTION,
  description: 'Put the instance on Standby in its Auto Scaling group (or detach it), keeping the desired capacity, so the group neither replaces nor terminates it',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: [
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:EnterStandby',
      'autoscaling:DetachInstances',
      'autoscaling:ExitStandby',
      'autoscaling:AttachInstances',
      // Rollback reports the group's capacity after the instance is back.
      'autoscaling:DescribeAutoScalingGroups',
    ],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const member = await membership(context, instanceId);
      const resource = instanceArnOf(context, instanceId);
      if (member === undefined) return { action: ACTION, resource, compliant: true, summary: `${describeMembership(instanceId, member)}; nothing to take out`, changes: [] };
      if (OUT_OF_SERVICE.has(member.lifecycleState)) {
        return { action: ACTION, resource, compliant: true, summary: `${describeMembership(instanceId, member)}: the group no longer health-checks or replaces it; nothing to change`, changes: [] };
      }
      if (member.lifecycleState !== 'InService') {
        return {
          action: ACTION,
          resource,
          compliant: false,
          summary: `${describeMembership(instanceId, member)}: Standby and detaching both need it InService; running now would fail, and the group may replace it`,
          changes: [],
        };
      }
      return {
        action: ACTION,
        resource,
        compliant: false,
        summary: `${describeMembership(instanceId, member)}: would put it on Standby keeping the desired capacity (the group launches a replacement), or detach it keeping the capacity if the group refuses Standby`,
        changes: [{ field: fieldOf(member.groupName), from: 'InService', to: 'Standby' }],
      };
    },

    async run(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const resource = instanceArnOf(context, instanceId);
      // Read again, not the plan's reading: the state may have moved since.
      const member = await membership(context, instanceId);
      if (member === undefined || OUT_OF_SERVICE.has(member.lifecycleState)) {
        return {
          action: ACTION,
          resource,
          changed: false,
          summary: `${describeMembership(instanceId, member)}; nothing changed`,
          changes: [],
        };
      }
      if (member.lifecycleState !== 'InService') throw new AutoScalingInstanceUnprotectedError(ACTION, context, { instanceId, ...member });
      const how = await takeOut(context, instanceId, member.groupName);
      return {
        action: ACTION,
        resource,
        changed: true,
        summary:
          how === 'standby'
            ? `instance ${instanceId}: put on Standby in Auto Scaling group ${member.groupName}, desired capacity kept (the group launches a replacement)`
            : `instance ${instanceId}: the group ${member.groupName} refused Standby; detached it, desired capacity kept (the group launches a replacement)`,
        changes: [{ field: fieldOf(member.groupName), from: 'InService', to: how === 'standby' ? 'Standby' : 'Detached' }],
        undo: { instanceId, groupName: member.groupName, how },
      };
    },

    async verify(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const member = await membership(context, instanceId);
      const compliant = member === undefined || OUT_OF_SERVICE.has(member.lifecycleState);
      return {
        compliant,
        summary: compliant ? `${describeMembership(instanceId, member)}: out of the group's health checks and scaling` : `${describeMembership(instanceId, member)}: the group may still replace it`,
      };
    },

    undoOfPlanned(context, planned) {
      const change = planned.find((candidate) => candidate.field.startsWith('autoScalingGroups.') && candidate.from === 'InService');
      if (change === undefined) return undefined;
      const groupName = change.field.slice('autoScalingGroups.'.length);
      // The plan always says Standby; rollback acts on what it finds (Standby or detached) either way.
      return { instanceId: instanceIdOf(ACTION, context), groupName, how: change.to === 'Detached' ? 'detached' : 'standby' };
    },

    async rollback(context, undo: StandbyInstanceUndo): Promise<ActionOutcome<never>> {
      const { instanceId, groupName } = undo;
      const resource = instanceArnOf(context, instanceId);
      const autoscaling = context.clients.create(AutoScalingClient, context.target);
      const member = await membership(context, instanceId);
      const unchanged = (why: string): ActionOutcome<never> => ({ action: ACTION, resource, changed: false, summary: `${describeMembership(instanceId, member)}; ${why}`, changes: [] });
      let change: PlannedChange;
      if (member === undefined) {
        // Detached by the run (or after it): back into the group it left.
        await autoscaling.send(new AttachInstancesCommand({ AutoScalingGroupName: groupName, InstanceIds: [instanceId] }));
        change = { field: fieldOf(groupName), from: 'Detached', to: 'InService' };
      } else if (member.groupName !== groupName) {
        return unchanged(`not putting it back in ${groupName}`);
      } else if (member.lifecycleState === 'Standby') {
        await autoscaling.send(new ExitStandbyCommand({ AutoScalingGroupName: groupName, InstanceIds: [instanceId] }));
        change = { field: fieldOf(groupName), from: 'Standby', to: 'InService' };
      } else {
        return unchanged(member.lifecycleState === 'InService' ? 'already back in service' : 'nothing Riposte can put back');
      }
      const now = await capacity(context, groupName);
      return {
        action: ACTION,
        resource,
        changed: true,
        summary: `instance ${instanceId}: back in service in Auto Scaling group ${groupName} (${change.from === 'Standby' ? 'ExitStandby' : 'AttachInstances'}, which raises the desired capacity by one${now === undefined ? '' : `: now ${now}`}; the replacement launched during containment stays until the group scales in)`,
        changes: [change],
      };
    },
  },
});
