import type { z } from 'zod';

import { RiposteError, type ErrorContext } from '../errors.js';
import type { ActionRegistry } from './registry.js';
import type { ActionBehaviour, ActionContext, ActionOutcome, ActionPlan, Verification } from './runtime.js';
import type { ActionDefinition } from './types.js';

/** Which part of an action's behaviour a step ran. */
export type StepPhase = 'plan' | 'run' | 'verify' | 'rollback';

/** An action to run: its definition, or its name in a registry. */
export type StepAction<Params extends z.ZodType = z.ZodType, Undo = unknown> =
  | ActionDefinition<Params, Undo>
  | { readonly registry: ActionRegistry; readonly action: string };

/** Error names AWS services use for throttling. */
const THROTTLING_NAMES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);
/** Node socket errors after which the same call may well succeed. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly errors?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
  readonly $retryable?: { readonly throttling?: unknown };
}

const shapeOf = (error: unknown): ErrorShape => (typeof error === 'object' && error !== null ? (error as ErrorShape) : {});
const stringOr = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const statusOf = (error: unknown): number | undefined => {
  const status = shapeOf(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
};

function isNetworkError(error: unknown, depth = 0): boolean {
  if (depth > 3) return false;
  const shape = shapeOf(error);
  const code = stringOr(shape.code);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  if (shape.name === 'TimeoutError') return true;
  if (typeof shape.message === 'string' && /socket hang up|ECONNREFUSED|ECONNRESET/.test(shape.message)) return true;
  // Node reports a failed connection to several addresses as an AggregateError.
  if (Array.isArray(shape.errors)) return shape.errors.some((inner) => isNetworkError(inner, depth + 1));
  return false;
}

/**
 * Whether repeating the same call may succeed: throttling, a 5xx answer, or
 * a network failure (connection refused or reset, socket hang up, timeout).
 * A Riposte error answers for itself.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof RiposteError) return error.retryable;
  const shape = shapeOf(error);
  const name = stringOr(shape.name);
  if (name !== undefined && THROTTLING_NAMES.has(name)) return true;
  if (shape.$retryable?.throttling === true) return true;
  const status = statusOf(error);
  if (status !== undefined && status >= 500) return true;
  return isNetworkError(error);
}

/** `Throttling: Rate exceeded`, `Error [ECONNREFUSED]: connect ECONNREFUSED …`. */
function describeError(error: unknown): string {
  if (!(typeof error === 'object' && error !== null)) return String(error);
  const shape = shapeOf(error);
  const name = stringOr(shape.name) ?? 'Error';
  const code = stringOr(shape.code);
  let message = stringOr(shape.message);
  if (message === undefined && Array.isArray(shape.errors)) {
    message = shape.errors.map((inner) => stringOr(shapeOf(inner).message)).filter((text) => text !== undefined).join('; ');
  }
  return `${name}${code === undefined || code === name ? '' : ` [${code}]`}: ${message || 'no message'}`;
}

const resourceOf = (context: ActionContext): string => context.resource.arn ?? context.resource.id;

/** The context every step error carries. */
function stepContext(context: ActionContext, step: string, phase: StepPhase): ErrorContext {
  return {
    account: context.target.account,
    region: context.target.region,
    resource: resourceOf(context),
    step,
    ...(context.playbookId === undefined ? {} : { playbook: context.playbookId }),
    phase,
  };
}

/**
 * A step's action failed for a reason it did not name itself: an AWS error
 * (throttling, access denied, a 5xx), a network failure, or a Riposte error
 * without the step's account and region. `cause` keeps the original;
 * `retryable` says whether the same step may succeed when repeated.
 */
export class ActionFailedError extends RiposteError {
  readonly code = 'ACTION_FAILED';
  readonly action: string;
  readonly phase: StepPhase;
  /** The underlying error's name, e.g. `Throttling`, `AccessDenied`. */
  readonly errorName: string | undefined;

  constructor(action: string, phase: StepPhase, context: ActionContext, cause: unknown) {
    const { account, region } = context.target;
    const resource = resourceOf(context);
    const shape = shapeOf(cause);
    const status = statusOf(cause);
    const requestId = stringOr(shape.$metadata?.requestId);
    const errorName = stringOr(shape.name);
    super(`${action} (${phase}) failed on ${resource} in account ${account}, region ${region}: ${describeError(cause)}`, {
      context: {
        ...stepContext(context, action, phase),
        ...(errorName === undefined ? {} : { errorName }),
        ...(status === undefined ? {} : { statusCode: status }),
        ...(requestId === undefined ? {} : { requestId }),
      },
      cause,
      retryable: isRetryableError(cause),
    });
    this.action = action;
    this.phase = phase;
    this.errorName = errorName;
  }
}

/** The action has no behaviour (or no rollback) yet: the step cannot run. */
export class ActionNotImplementedError extends RiposteError {
  readonly code = 'ACTION_NOT_IMPLEMENTED';
  readonly action: string;
  readonly phase: StepPhase;
  constructor(action: string, phase: StepPhase, context: ActionContext) {
    super(
      phase === 'rollback'
        ? `${action} cannot be rolled back: rollback is not implemented (resource ${resourceOf(context)}, account ${context.target.account}, region ${context.target.region})`
        : `${action} is not implemented: it has no behaviour to ${phase} (resource ${resourceOf(context)}, account ${context.target.account}, region ${context.target.region})`,
      { context: stepContext(context, action, phase), retryable: false },
    );
    this.action = action;
    this.phase = phase;
  }
}

/** The step's parameters do not match the action's schema. */
export class ActionParamsInvalidError extends RiposteError {
  readonly code = 'ACTION_PARAMS_INVALID';
  readonly issues: z.ZodError['issues'];
  constructor(action: string, phase: StepPhase, context: ActionContext, error: z.ZodError) {
    const issues = error.issues;
    const first = issues[0];
    const field = first === undefined || first.path.length === 0 ? undefined : first.path.map(String).join('.');
    super(
      `${action}: invalid parameters for ${resourceOf(context)} (account ${context.target.account}, region ${context.target.region}): ${issues
        .map((issue) => `${issue.path.length === 0 ? '(params)' : issue.path.map(String).join('.')}: ${issue.message}`)
        .join('; ')}`,
      { context: { ...stepContext(context, action, phase), ...(field === undefined ? {} : { field }) }, cause: error, retryable: false },
    );
    this.issues = issues;
  }
}

const nameOf = (action: StepAction): string => ('registry' in action ? action.action : action.name);

/** A Riposte error that already says where it happened passes through unchanged. */
const hasStepContext = (error: RiposteError): boolean =>
  error.context.account !== undefined && error.context.region !== undefined && error.context.resource !== undefined;

function asStepError(error: unknown, action: string, phase: StepPhase, context: ActionContext): RiposteError {
  if (error instanceof RiposteError && hasStepContext(error)) return error;
  return new ActionFailedError(action, phase, context, error);
}

interface Resolved<Params extends z.ZodType, Undo> {
  readonly definition: ActionDefinition<Params, Undo>;
  readonly behaviour: ActionBehaviour<z.output<Params>, Undo>;
}

function resolve<Params extends z.ZodType, Undo>(action: StepAction<Params, Undo>, phase: StepPhase, context: ActionContext): Resolved<Params, Undo> {
  const definition = ('registry' in action ? action.registry.get(action.action) : action) as ActionDefinition<Params, Undo>;
  if (definition.behaviour === undefined) throw new ActionNotImplementedError(definition.name, phase, context);
  return { definition, behaviour: definition.behaviour };
}

function parseParams<Params extends z.ZodType>(definition: ActionDefinition<Params, unknown>, phase: StepPhase, context: ActionContext, params: unknown): z.output<Params> {
  const parsed = definition.params.safeParse(params ?? {});
  if (!parsed.success) throw new ActionParamsInvalidError(definition.name, phase, context, parsed.error);
  return parsed.data as z.output<Params>;
}

async function step<Params extends z.ZodType, Undo, Result>(
  action: StepAction<Params, Undo>,
  phase: StepPhase,
  context: ActionContext,
  call: (resolved: Resolved<Params, Undo>) => Promise<Result>,
): Promise<Result> {
  let name = nameOf(action as StepAction);
  try {
    const resolved = resolve(action, phase, context);
    name = resolved.definition.name;
    return await call(resolved);
  } catch (error) {
    throw asStepError(error, name, phase, context);
  }
}

/**
 * What the step would change (reads only). Parameters are validated against
 * the action's schema first.
 *
 * @throws ActionFailedError for any failure that does not name the step's
 *   account, region and resource itself (retryable for throttling, 5xx and
 *   network errors); the action's own errors with that context unchanged.
 */
export async function planStep<Params extends z.ZodType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<ActionPlan> {
  return step(action, 'plan', context, ({ definition, behaviour }) => behaviour.plan(context, parseParams(definition, 'plan', context, params)));
}

/** Runs the step's action. @throws as {@link planStep} */
export async function runStep<Params extends z.ZodType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<ActionOutcome<Undo>> {
  return step(action, 'run', context, ({ definition, behaviour }) => behaviour.run(context, parseParams(definition, 'run', context, params)));
}

/** Reads back whether the step's resource complies now. @throws as {@link planStep} */
export async function verifyStep<Params extends z.ZodType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<Verification> {
  return step(action, 'verify', context, ({ definition, behaviour }) => behaviour.verify(context, parseParams(definition, 'verify', context, params)));
}

/**
 * Takes back what a run replaced, given that run's `undo`.
 * @throws ActionNotImplementedError when the action cannot roll back; otherwise as {@link planStep}
 */
export async function rollbackStep<Params extends z.ZodType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, undo: Undo): Promise<ActionOutcome<never>> {
  return step(action, 'rollback', context, ({ definition, behaviour }) => {
    if (behaviour.rollback === undefined) throw new ActionNotImplementedError(definition.name, 'rollback', context);
    return behaviour.rollback(context, undo);
  });
}
