import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';

import { RiposteError } from '../errors.js';
import { ec2Arn } from '../intake/aws-names.js';
import type { ActionContext } from './runtime.js';

/**
 * The step's EC2 instance does not exist in the member account and region
 * (EC2 answered `InvalidInstanceID.NotFound`/`.Malformed`, or
 * DescribeInstances returned nothing), or the finding names no instance at
 * all. Retrying cannot help: the instance was terminated long enough ago to
 * be gone, or the finding names another account.
 */
export class InstanceNotFoundError extends RiposteError {
  readonly code = 'EC2_INSTANCE_NOT_FOUND';
  readonly instanceId: string | undefined;
  constructor(action: string, context: ActionContext, instanceId: string | undefined, cause?: unknown) {
    const { account, region } = context.target;
    super(
      instanceId === undefined
        ? `${action}: the finding names no EC2 instance to act on (account ${account}, region ${region}, resource ${context.resource.id})`
        : `${action}: EC2 instance ${instanceId} does not exist in account ${account}, region ${region}`,
      {
        context: {
          account,
          region,
          resource: instanceId === undefined ? context.resource.id : instanceArnOf(context, instanceId),
          step: action,
          ...(instanceId === undefined ? {} : { instanceId }),
        },
        cause,
        retryable: false,
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
export function instanceIdOf(action: string, context: ActionContext): string {
  const instanceId = context.resource.instanceId;
  if (instanceId === undefined || instanceId === '') throw new InstanceNotFoundError(action, context, undefined);
  return instanceId;
}

const errorName = (error: unknown): string | undefined => (error as { name?: string } | undefined)?.name;

/** EC2's answers for an instance id that names no instance. */
export const isInstanceNotFound = (error: unknown): boolean => errorName(error) === 'InvalidInstanceID.NotFound' || errorName(error) === 'InvalidInstanceID.Malformed';

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
