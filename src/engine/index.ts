export { IndexedMatcher, NaiveMatcher, createEngine } from './matcher.js';
export type { IndexedMatcherOptions, Matcher, PlaybookMatch } from './matcher.js';
export { accessPathsOf, INDEX_FIELDS, INDEX_LEVELS, PlaybookIndex } from './playbook-index.js';
export type { AccessPath, IndexKey, IndexLevel } from './playbook-index.js';
export { compileConditionCheck, FindingFacts } from './condition-check.js';
export type { ConditionCheck } from './condition-check.js';
export { explain } from './explain.js';
export type { ConditionOutcome } from './explain.js';
