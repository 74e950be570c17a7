export { compilePlaybookFiles, compilePlaybooks, MAX_CUSTOM_ACTIONS } from './compile.js';
export type { CompileResult, PlaybookFile } from './compile.js';
export { loadPlaybooks, readPlaybookFiles } from './load.js';
export { formatProblem, PlaybookCompileError } from './errors.js';
export type { PlaybookProblem } from './errors.js';
export { FIELDS, FIELD_NAMES, MATCHABLE_FIELD_NAMES, factsOf } from './fields.js';
export type { FieldSpec, FieldType } from './fields.js';
export { MATCH_OPERATORS } from './match.js';
export { automaticEventPatterns, customActionEventPattern, eventPatternsForMatch } from './event-patterns.js';
export type { EventPattern, PatternValue } from './event-patterns.js';
export { factNamesIn, necessaryConditions, isFactCondition } from './conditions.js';
export type { Condition, FactCondition } from './conditions.js';
export { playbookSchema, playbookFileSchema } from './schema.js';
export type {
  AccountExemption,
  CompiledPlaybook,
  CompiledRule,
  CustomActionBinding,
  Playbook,
  PlaybookStep,
  PlaybookTriggers,
} from './types.js';
export { playbookJsonSchema, playbookJsonSchemaText } from './json-schema.js';
