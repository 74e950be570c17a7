import { RiposteError, type ErrorContext } from '../errors.js';

/**
 * The custom resource's event or properties are not what the stack sends
 * (a missing `ResponseURL`, an action id Security Hub would refuse, more than
 * 50 actions). Nothing was changed; repeating the same request cannot help.
 */
export class ActionTargetsRequestError extends RiposteError {
  override readonly name: string = 'ActionTargetsRequestError';
  readonly code = 'DEPLOY_ACTION_TARGETS_INVALID';
  constructor(message: string, context: ErrorContext = {}) {
    super(message, { context });
  }
}

/**
 * An update asks for a custom action whose id another owner already holds in
 * the account and region. The stack does not take over (and later delete)
 * what it did not create: nothing was changed.
 */
export class ActionTargetConflictError extends RiposteError {
  override readonly name: string = 'ActionTargetConflictError';
  readonly code = 'DEPLOY_ACTION_TARGET_NOT_OURS';
  constructor(actionArn: string) {
    super(`the Security Hub custom action ${actionArn} already exists and was not created by this stack: delete it, or give the playbook's customAction another id`, {
      context: { resource: actionArn, operation: 'SecurityHub.CreateActionTarget' },
    });
  }
}

/** The pre-signed ResponseURL refused the answer: CloudFormation never heard it. */
export class CustomResourceResponseError extends RiposteError {
  override readonly name: string = 'CustomResourceResponseError';
  readonly code = 'DEPLOY_CUSTOM_RESOURCE_RESPONSE_FAILED';
  constructor(statusCode: number | undefined, cause?: unknown) {
    super(`the custom resource's answer was not accepted by its ResponseURL${statusCode === undefined ? '' : ` (HTTP ${statusCode})`}`, {
      context: { operation: 'PUT ResponseURL', ...(statusCode === undefined ? {} : { statusCode }) },
      cause,
      retryable: true,
    });
  }
}
