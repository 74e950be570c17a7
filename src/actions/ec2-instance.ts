import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstancesCommand, EC2Client, type IamInstanceProfileAssociation, type Instance } from '@aws-sdk/client-ec2';

import { InstanceNotFoundError, isEc2Error } from './errors.js';
import type { ActionContext } from './runtime.js';

/** The step's instance id. @throws InstanceNotFoundError when the finding names none. */
export function instanceIdOf(action: string, context: ActionContext): string {
  const instanceId = context.resource.instanceId;
  if (instanceId === undefined || instanceId === '') throw new InstanceNotFoundError(action, context, undefined);
  return instanceId;
}

/** EC2's answers for an instance id that names no instance. */
const isInstanceNotFound = (error: unknown): boolean => isEc2Error(error, ['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** Runs `call`, turning EC2's "no such instance" answers into InstanceNotFoundError. */
export async function onInstance<T>(action: string, context: ActionContext, instanceId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isInstanceNotFound(error)) throw new InstanceNotFoundError(action, context, instanceId, error);
    throw error;
  }
}

/**
 * The instance as DescribeInstances sees it: the step's instance, or
 * `instanceId` when given (rollback acts on the instance its undo names).
 * @throws InstanceNotFoundError
 */
export async function describeInstance(action: string, context: ActionContext, instanceId: string = instanceIdOf(action, context)): Promise<Instance> {
  const ec2 = context.clients.create(EC2Client, context.target);
  const { Reservations } = await onInstance(action, context, instanceId, () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  const instance = Reservations?.flatMap((reservation) => reservation.Instances ?? []).find((candidate) => candidate.InstanceId === instanceId);
  if (instance === undefined) throw new InstanceNotFoundError(action, context, instanceId);
  return instance;
}

/**
 * Checks that the instance exists (DescribeInstances), for actions whose
 * other calls answer an unknown instance id with an empty list instead of
 * an error. @throws InstanceNotFoundError
 */
export async function assertInstanceExists(action: string, context: ActionContext, instanceId: string): Promise<void> {
  await describeInstance(action, context, instanceId);
}

/**
 * The instance profile association in force on the instance now (`associating`
 * or `associated`), as EC2 answers; `undefined` when there is none. One
 * home for the read that the live target and the profile actions share.
 */
export async function liveProfileAssociation(ec2: EC2Client, instanceId: string): Promise<IamInstanceProfileAssociation | undefined> {
  const { IamInstanceProfileAssociations: associations = [] } = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    }),
  );
  return associations.find((association) => association.InstanceId === instanceId && (association.State === 'associated' || association.State === 'associating'));
}
