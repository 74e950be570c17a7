import type * as z from '../zod.js';

import { RiposteError } from '../errors.js';
import { ActionFailedError, ActionNotReversibleError, ActionParamsInvalidError } from './errors.js';
import type { ActionRegistry } from './registry.js';
import type { ActionContext, ActionOutcome, ActionPlan, Verification } from './runtime.js';
import type { ActionDefinition, StepPhase } from './types.js';

/** An action to run: its definition, or its name in a registry. */
export type StepAction<Params extends z.ZodMiniType = z.ZodMiniType, Undo = unknown> = ActionDefinition<Params, Undo> | { readonly registry: ActionRegistry; readonly action: string };

const actionNameOf = (action: StepAction): string => ('registry' in action ? action.action : action.name);

/** A Riposte error that already says where it happened passes through unchanged. */
const hasStepContext = (error: RiposteError): boolean => error.context.account !== undefined && error.context.region !== undefined && error.context.resource !== undefined;

function asStepError(error: unknown, action: string, phase: StepPhase, context: ActionContext): RiposteError {
  if (error instanceof RiposteError && hasStepContext(error)) return error;
  return new ActionFailedError(action, phase, context, error);
}

function parseParams<Params extends z.ZodMiniType>(definition: ActionDefinition<Params, unknown>, phase: StepPhase, context: ActionContext, params: unknown): z.output<Params> {
  const parsed = definition.params.safeParse(params ?? {});
  if (!parsed.success) throw new ActionParamsInvalidError(definition.name, phase, context, parsed.error);
  return parsed.data;
}

async function step<Params extends z.ZodMiniType, Undo, Result>(
  action: StepAction<Params, Undo>,
  phase: StepPhase,
  context: ActionContext,
  call: (definition: ActionDefinition<Params, Undo>) => Promise<Result>,
): Promise<Result> {
  let name = actionNameOf(action);
  try {
    const definition = ('registry' in action ? action.registry.get(action.action) : action) as ActionDefinition<Params, Undo>;
    name = definition.name;
    return await call(definition);
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
export async function planStep<Params extends z.ZodMiniType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<ActionPlan> {
  return step(action, 'plan', context, (definition) => definition.behaviour.plan(context, parseParams(definition, 'plan', context, params)));
}

/** Runs the step's action. @throws as {@link planStep} */
export async function runStep<Params extends z.ZodMiniType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<ActionOutcome<Undo>> {
  return step(action, 'run', context, (definition) => definition.behaviour.run(context, parseParams(definition, 'run', context, params)));
}

/** Reads back whether the step's resource complies now. @throws as {@link planStep} */
export async function verifyStep<Params extends z.ZodMiniType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, params: unknown): Promise<Verification> {
  return step(action, 'verify', context, (definition) => definition.behaviour.verify(context, parseParams(definition, 'verify', context, params)));
}

/**
 * Takes back what a run replaced, given that run's `undo`.
 * @throws ActionNotReversibleError when the action has no rollback; otherwise as {@link planStep}
 */
export async function rollbackStep<Params extends z.ZodMiniType, Undo>(action: StepAction<Params, Undo>, context: ActionContext, undo: Undo): Promise<ActionOutcome<never>> {
  return step(action, 'rollback', context, (definition) => {
    if (definition.behaviour.rollback === undefined) throw new ActionNotReversibleError(definition.name, context);
    return definition.behaviour.rollback(context, undo);
  });
}
