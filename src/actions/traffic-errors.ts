import { describeError, isRetryableError, RiposteError, type ErrorContext } from '../errors.js';
import { instanceArnOf } from './arns.js';
import type { ActionContext } from './runtime.js';

/*
 * The errors of the actions that take an instance out of its Auto Scaling
 * group and its load balancers (`autoscaling.standby-instance`,
 * `elb.deregister-instance`).
 */

const instanceContext = (action: string, context: ActionContext, instanceId: string): ErrorContext => ({
  account: context.target.account,
  region: context.target.region,
  resource: instanceArnOf(context, instanceId),
  instanceId,
  step: action,
});

/**
 * Lifecycle states an instance leaves by itself for `InService` (a launch
 * in progress, a launch lifecycle hook): a retry a little later can take it
 * out of its group.
 */
const ON_ITS_WAY_IN = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed']);

/**
 * The instance belongs to an Auto Scaling group and could not be taken out
 * of it: Standby and detaching both accept only an `InService` instance
 * (Amazon EC2 Auto Scaling User Guide: "You can put an instance that is in
 * the InService state into the Standby state"; "You can detach an instance
 * only when it's in the InService state"), or the group refused both. The
 * group may still replace the instance when the quarantine fails its health
 * check. `status` is the instance's lifecycle state; retryable while it is
 * `Pending…` (it becomes `InService` by itself) or when the group's refusal was.
 */
export class AutoScalingInstanceUnprotectedError extends RiposteError {
  override readonly name: string = 'AutoScalingInstanceUnprotectedError';
  readonly code = 'AUTOSCALING_INSTANCE_UNPROTECTED';
  readonly groupName: string;
  readonly lifecycleState: string;
  constructor(action: string, context: ActionContext, instance: { readonly instanceId: string; readonly groupName: string; readonly lifecycleState: string }, cause?: unknown) {
    const { instanceId, groupName, lifecycleState } = instance;
    const why = cause === undefined ? `it is ${lifecycleState}, and Standby and detaching both need it InService` : `the group refused Standby and detaching (${describeError(cause)})`;
    super(`${action}: instance ${instanceId} stays in Auto Scaling group ${groupName}, which may replace it when it fails a health check: ${why}`, {
      context: { ...instanceContext(action, context, instanceId), status: lifecycleState },
      cause,
      retryable: cause === undefined ? ON_ITS_WAY_IN.has(lifecycleState) : isRetryableError(cause),
    });
    this.groupName = groupName;
    this.lifecycleState = lifecycleState;
  }
}

/**
 * Some of the deregistrations from target groups and classic load balancers
 * failed: `done` names those that succeeded (what the step's record holds
 * for rollback, through the plan a retry keeps), `failed` the others.
 * Retryable when the first failure is.
 */
export class LoadBalancerDeregistrationError extends RiposteError {
  override readonly name: string = 'LoadBalancerDeregistrationError';
  readonly code = 'ELB_DEREGISTRATION_INCOMPLETE';
  readonly done: readonly string[];
  readonly failed: readonly string[];
  constructor(
    action: string,
    context: ActionContext,
    instanceId: string,
    outcome: { readonly done: readonly string[]; readonly failed: readonly { readonly from: string; readonly error: unknown }[] },
  ) {
    const first = outcome.failed[0]?.error;
    const failures = outcome.failed.map(({ from, error }) => `${from}: ${describeError(error)}`).join('; ');
    super(
      `${action}: instance ${instanceId} is still registered with ${outcome.failed.length} load balancer(s) (${failures}); deregistered from ${outcome.done.length === 0 ? 'none' : outcome.done.join(', ')}`,
      {
        context: { ...instanceContext(action, context, instanceId), errorName: first instanceof Error ? first.name : undefined },
        cause: first,
        retryable: isRetryableError(first),
      },
    );
    this.done = outcome.done;
    this.failed = outcome.failed.map(({ from }) => from);
  }
}
