/**
 * What the deployment needs at deploy time, inside the stack: the custom
 * resource that keeps Security Hub's custom actions in step with the
 * playbooks' `customAction`s.
 */
export {
  actionTargetsHandler,
  applyActionTargetsEvent,
  describeAllActionTargets,
  foreignIdsOf,
  handleActionTargetsEvent,
  MAX_CUSTOM_ACTIONS,
  parseActionTargets,
  putResponse,
} from './action-targets.js';
export type {
  ActionTargetSpec,
  ActionTargetsChange,
  ActionTargetsHandlerOptions,
  ActionTargetsResult,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
} from './action-targets.js';
export { ActionTargetConflictError, ActionTargetsRequestError, CustomResourceResponseError } from './errors.js';
export {
  automaticPatternsOf,
  CUSTOM_ACTION_DETAIL_TYPE,
  detailTypeOf,
  FORWARDED_SOURCES,
  forwardedPatterns,
  forwarderTemplate,
  joinPatternsByKind,
  MAX_EVENT_PATTERN_CHARACTERS,
} from './forwarders.js';
export type { ForwarderTemplateOptions } from './forwarders.js';
