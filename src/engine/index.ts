export { IndexedMatcher, NaiveMatcher, createEngine } from './matcher.js';
export type { Matcher, PlaybookMatch } from './matcher.js';
export { PlaybookIndex, INDEX_FIELDS } from './playbook-index.js';
export { explain } from './explain.js';
export type { ConditionOutcome } from './explain.js';
export { CustomOperator, CUSTOM_OPERATORS, BUILT_IN_OPERATORS, KNOWN_OPERATORS, registerOperators } from './operators.js';
