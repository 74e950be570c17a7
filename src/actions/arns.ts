import { ec2Arn } from '../aws-names.js';
import type { ActionContext } from './runtime.js';

/*
 * How actions and their errors name what they act on: the ARN in the member
 * account, as an outcome's and an error's `resource`.
 */

export function instanceArnOf(context: ActionContext, instanceId: string): string {
  return ec2Arn(context.target.partition, context.target.region, context.target.account, 'instance', instanceId);
}

export function securityGroupArnOf(context: ActionContext, groupId: string): string {
  return ec2Arn(context.target.partition, context.target.region, context.target.account, 'security-group', groupId);
}

/** The step's resource: its ARN, else the id the finding gives it. */
export const stepResourceOf = (context: ActionContext): string => context.resource.arn ?? context.resource.id;
