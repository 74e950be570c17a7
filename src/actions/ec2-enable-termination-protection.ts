import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { z } from 'zod';

import { RiposteError } from '../errors.js';
import { ec2Arn } from '../intake/aws-names.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

/**
 * The instance the step acts on does not exist in the member account and
 * region (EC2 answered `InvalidInstanceID.NotFound`, or DescribeInstances
 * returned nothing), or the finding names no instance at all.
 */
export class InstanceNotFoundError extends RiposteError {
  readonly code = 'EC2_INSTANCE_NOT_FOUND';
  readonly instanceId: string | undefined;
  constructor(context: ActionContext, instanceId: string | undefined, cause?: unknown) {
    super(
      instanceId === undefined
        ? `the finding names no EC2 instance to act on (account ${context.target.account}, region ${context.target.region})`
        : `EC2 instance ${instanceId} does not exist in account ${context.target.account}, region ${context.target.region}`,
      {
        context: {
          account: context.target.account,
          region: context.target.region,
          resource: instanceId === undefined ? context.resource.id : instanceArnOf(context, instanceId),
          ...(instanceId === undefined ? {} : { instanceId }),
        },
        cause,
      },
    );
    this.instanceId = instanceId;
  }
}

/** The instance ARN in the member account, as an outcome's `resource`. */
export function instanceArnOf(context: ActionContext, instanceId: string): string {
  return ec2Arn(context.target.partition, context.target.region, context.target.account, 'instance', instanceId);
}

/** The step's instance id. @throws InstanceNotFoundError when the finding names none. */
export function instanceIdOf(context: ActionContext): string {
  const instanceId = context.resource.instanceId;
  if (instanceId === undefined) throw new InstanceNotFoundError(context, undefined);
  return instanceId;
}

const errorName = (error: unknown): string | undefined => (error as { name?: string } | undefined)?.name;

/** EC2's answers for an instance id that names no instance. */
export const isInstanceNotFound = (error: unknown): boolean => errorName(error) === 'InvalidInstanceID.NotFound' || errorName(error) === 'InvalidInstanceID.Malformed';

/** Runs `call`, turning EC2's "no such instance" answers into InstanceNotFoundError. */
export async function onInstance<T>(context: ActionContext, instanceId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isInstanceNotFound(error)) throw new InstanceNotFoundError(context, instanceId, error);
    throw error;
  }
}

/**
 * Checks that the instance exists (DescribeInstances), for actions whose
 * other calls answer an unknown instance id with an empty list instead of
 * an error. @throws InstanceNotFoundError
 */
export async function assertInstanceExists(context: ActionContext, instanceId: string): Promise<void> {
  const ec2 = context.clients.create(EC2Client, context.target);
  const { Reservations } = await onInstance(context, instanceId, () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  const found = (Reservations ?? []).some((reservation) => (reservation.Instances ?? []).some((instance) => instance.InstanceId === instanceId));
  if (!found) throw new InstanceNotFoundError(context, instanceId);
}

/** The two attributes this action sets. */
export interface TerminationAttributes {
  readonly disableApiTermination: boolean;
  readonly instanceInitiatedShutdownBehavior: string;
}

/** The attributes as they were before the run, restored by rollback. */
export type TerminationProtectionUndo = { readonly instanceId: string; readonly previous: TerminationAttributes };

const WANTED: TerminationAttributes = { disableApiTermination: true, instanceInitiatedShutdownBehavior: 'stop' };
const FIELDS = ['disableApiTermination', 'instanceInitiatedShutdownBehavior'] as const satisfies readonly (keyof TerminationAttributes)[];

async function currentAttributes(context: ActionContext, instanceId: string): Promise<TerminationAttributes> {
  const ec2 = context.clients.create(EC2Client, context.target);
  return onInstance(context, instanceId, async () => {
    const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
    const shutdown = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }));
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
  await onInstance(context, instanceId, async () => {
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
  behaviour: {
    async plan(context) {
      const instanceId = instanceIdOf(context);
      const changes = changesBetween(await currentAttributes(context, instanceId), WANTED);
      return {
        action: 'ec2.enable-termination-protection',
        resource: instanceArnOf(context, instanceId),
        compliant: changes.length === 0,
        summary:
          changes.length === 0
            ? `instance ${instanceId}: termination protection already on, shutdown behaviour already stop`
            : `instance ${instanceId}: would set ${describeChanges(changes)}`,
        changes,
      };
    },
    async run(context) {
      const instanceId = instanceIdOf(context);
      // Read again, not the plan's reading: the state may have moved since.
      const current = await currentAttributes(context, instanceId);
      const changes = changesBetween(current, WANTED);
      if (changes.length === 0) {
        return {
          action: 'ec2.enable-termination-protection',
          resource: instanceArnOf(context, instanceId),
          changed: false,
          summary: `instance ${instanceId}: termination protection already on; nothing changed`,
          changes,
        };
      }
      await apply(context, instanceId, changes);
      return {
        action: 'ec2.enable-termination-protection',
        resource: instanceArnOf(context, instanceId),
        changed: true,
        summary: `instance ${instanceId}: set ${describeChanges(changes)}`,
        changes,
        undo: { instanceId, previous: current },
      };
    },
    async verify(context) {
      const instanceId = instanceIdOf(context);
      const failing = changesBetween(await currentAttributes(context, instanceId), WANTED);
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `instance ${instanceId}: termination protection on, shutdown behaviour stop`
            : `instance ${instanceId}: still ${failing.map((c) => `${c.field} ${JSON.stringify(c.from)}`).join(', ')}`,
      };
    },
    async rollback(context, undo: TerminationProtectionUndo) {
      const current = await currentAttributes(context, undo.instanceId);
      const changes = changesBetween(current, undo.previous);
      await apply(context, undo.instanceId, changes);
      return {
        action: 'ec2.enable-termination-protection',
        resource: instanceArnOf(context, undo.instanceId),
        changed: changes.length > 0,
        summary: changes.length === 0 ? `instance ${undo.instanceId}: attributes already as before the run` : `instance ${undo.instanceId}: restored ${describeChanges(changes)}`,
        changes,
      };
    },
  },
});
