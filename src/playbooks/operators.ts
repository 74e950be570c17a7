import { Operator } from 'json-rules-engine';

/**
 * Operators Riposte adds to json-rules-engine's own (equal, in, contains,
 * greaterThan…): part of the playbook language, which compiles to them.
 */
export const CustomOperator = {
  /** Text (or any element of a list of texts) starts with one of the given prefixes. */
  Prefix: 'prefix',
  /** A list fact shares at least one element with the given list. */
  ContainsAny: 'containsAny',
  /** The fact is present (`true`) or absent (`false`). */
  Exists: 'exists',
} as const;
export type CustomOperator = (typeof CustomOperator)[keyof typeof CustomOperator];

/** json-rules-engine's built-in operators: the names a raw `conditions` block may use besides ours. */
export const BUILT_IN_OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'] as const;

export const KNOWN_OPERATORS: readonly string[] = [...BUILT_IN_OPERATORS, ...Object.values(CustomOperator)];

/**
 * What an operator means, as json-rules-engine evaluates one: the fact value
 * is first checked by `accepts` (false fails the condition, whatever the
 * value), then compared by `holds`.
 */
export interface OperatorSemantics {
  readonly name: string;
  readonly accepts: (factValue: unknown) => boolean;
  readonly holds: (factValue: unknown, value: unknown) => boolean;
}

const anyFact = (): boolean => true;
/** json-rules-engine's check before a numeric comparison, as it writes it (a text that starts with digits passes). */
const numberLike = (factValue: unknown): boolean => Number.parseFloat(factValue as string).toString() !== 'NaN';
const isTextOrTextList = (value: unknown): boolean => typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));

/*
 * The built-in operators restate json-rules-engine's (7.x,
 * engine-default-operators.js) to the letter, including their use of `<` on
 * whatever the values are, so that the matcher's synchronous check and the
 * engine run the very same functions: every engine registers these in place
 * of its defaults (createEngine). test/playbooks/operators.property.test.ts
 * holds them to an engine with its defaults untouched.
 */
const list = (value: unknown): unknown[] => value as unknown[];
const SEMANTICS: readonly OperatorSemantics[] = [
  { name: 'equal', accepts: anyFact, holds: (a, b) => a === b },
  { name: 'notEqual', accepts: anyFact, holds: (a, b) => a !== b },
  { name: 'in', accepts: anyFact, holds: (a, b) => list(b).indexOf(a) > -1 },
  { name: 'notIn', accepts: anyFact, holds: (a, b) => list(b).indexOf(a) === -1 },
  { name: 'contains', accepts: Array.isArray, holds: (a, b) => list(a).indexOf(b) > -1 },
  { name: 'doesNotContain', accepts: Array.isArray, holds: (a, b) => list(a).indexOf(b) === -1 },
  { name: 'lessThan', accepts: numberLike, holds: (a, b) => (a as number) < (b as number) },
  { name: 'lessThanInclusive', accepts: numberLike, holds: (a, b) => (a as number) <= (b as number) },
  { name: 'greaterThan', accepts: numberLike, holds: (a, b) => (a as number) > (b as number) },
  { name: 'greaterThanInclusive', accepts: numberLike, holds: (a, b) => (a as number) >= (b as number) },
  {
    name: CustomOperator.Prefix,
    accepts: isTextOrTextList,
    holds: (a, b) => {
      const texts = typeof a === 'string' ? [a] : (a as string[]);
      return texts.some((text) => (b as string[]).some((prefix) => text.startsWith(prefix)));
    },
  },
  { name: CustomOperator.ContainsAny, accepts: Array.isArray, holds: (a, b) => list(a).some((item) => list(b).includes(item)) },
  { name: CustomOperator.Exists, accepts: anyFact, holds: (a, b) => (a !== undefined && a !== null) === b },
];

/** Each operator's one implementation, by name: a `Map`, so a name from a playbook never finds `Object.prototype`'s members. */
export const OPERATOR_SEMANTICS: ReadonlyMap<string, OperatorSemantics> = new Map(SEMANTICS.map((semantics) => [semantics.name, semantics]));

/** The same operators as json-rules-engine `Operator`s, for every engine to register (replacing its built-ins with their restatement). */
export const ENGINE_OPERATORS: readonly Operator[] = SEMANTICS.map(({ name, accepts, holds }) => new Operator<unknown, unknown>(name, holds, accepts));
