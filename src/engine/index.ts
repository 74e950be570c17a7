export { IndexedMatcher, NaiveMatcher, createEngine } from './matcher.js';
export type { Matcher, PlaybookMatch } from './matcher.js';
export { PlaybookIndex, INDEX_FIELDS } from './playbook-index.js';
export { explain } from './explain.js';
export type { ConditionOutcome } from './explain.js';
