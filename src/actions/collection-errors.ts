import { RiposteError } from '../errors.js';
import { instanceArnOf } from './arns.js';
import type { ActionContext } from './runtime.js';

const where = (context: ActionContext, action: string, instanceId: string) => ({
  account: context.target.account,
  region: context.target.region,
  resource: instanceArnOf(context, instanceId),
  instanceId,
  step: action,
});

/**
 * The collection asked for a tool (a memory capture tool, the AWS CLI that
 * uploads its image) that is not on the instance at the path the step names:
 * the command said so (its output's `riposte-collect: tool missing` line) and
 * ended Failed. The output is stored as evidence. Install the tool there, or
 * change the step's path; retrying as is cannot help.
 */
export class CollectionToolMissingError extends RiposteError {
  override readonly name: string = 'CollectionToolMissingError';
  readonly code = 'SSM_COLLECTION_TOOL_MISSING';
  readonly tool: string;
  readonly path: string;
  readonly commandId: string;
  constructor(action: string, context: ActionContext, instanceId: string, missing: { tool: string; path: string; commandId: string; status: string; evidence: string }) {
    super(
      `${action}: ${missing.tool} is not installed at ${missing.path} on ${instanceId} (command ${missing.commandId} ended ${missing.status}); nothing was captured with it; the command's output is stored at ${missing.evidence}`,
      {
        context: { ...where(context, action, instanceId), commandId: missing.commandId, status: missing.status },
        retryable: false,
      },
    );
    this.tool = missing.tool;
    this.path = missing.path;
    this.commandId = missing.commandId;
  }
}

/**
 * The instance has an instance profile other than the forensic one: the
 * collection does not replace it. Order the step after
 * `ec2.detach-instance-profile`; retrying as is cannot help.
 */
export class InstanceProfileInUseError extends RiposteError {
  override readonly name: string = 'InstanceProfileInUseError';
  readonly code = 'EC2_INSTANCE_PROFILE_IN_USE';
  readonly instanceProfileArn: string;
  constructor(action: string, context: ActionContext, instanceId: string, current: string, forensic: string) {
    super(
      `${action}: instance ${instanceId} has instance profile ${current}; the forensic profile ${forensic} is attached only to an instance with none (detach the instance's own profile first: ec2.detach-instance-profile)`,
      { context: where(context, action, instanceId), retryable: false },
    );
    this.instanceProfileArn = current;
  }
}

/** Systems Manager cannot reach the instance, and the step says `onUnmanaged: fail`. */
export class InstanceNotManagedError extends RiposteError {
  override readonly name: string = 'InstanceNotManagedError';
  readonly code = 'SSM_INSTANCE_NOT_MANAGED';
  constructor(action: string, context: ActionContext, instanceId: string, reason: string) {
    super(`${action}: nothing collected from inside ${instanceId}: ${reason}`, { context: where(context, action, instanceId), retryable: true });
  }
}
