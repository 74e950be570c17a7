import { Operator } from 'json-rules-engine';

/**
 * Operators Riposte adds to json-rules-engine's own (equal, in, contains,
 * greaterThan…): part of the playbook language, which compiles to them. The
 * engine registers them through json-rules-engine's public `addOperator`, on
 * every engine, so compiled rules mean the same thing everywhere.
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

const isTextOrTextList = (value: unknown): boolean => typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));

export const CUSTOM_OPERATORS: readonly Operator[] = [
  new Operator<string | string[], string[]>(
    CustomOperator.Prefix,
    (factValue, prefixes) => {
      const texts = typeof factValue === 'string' ? [factValue] : factValue;
      return texts.some((text) => prefixes.some((prefix) => text.startsWith(prefix)));
    },
    isTextOrTextList,
  ),
  new Operator<unknown[], unknown[]>(CustomOperator.ContainsAny, (factValue, wanted) => factValue.some((item) => wanted.includes(item)), Array.isArray),
  new Operator<unknown, boolean>(CustomOperator.Exists, (factValue, wanted) => (factValue !== undefined && factValue !== null) === wanted),
];

/** json-rules-engine's built-in operators: the names a raw `conditions` block may use besides ours. */
export const BUILT_IN_OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'] as const;

export const KNOWN_OPERATORS: readonly string[] = [...BUILT_IN_OPERATORS, ...Object.values(CustomOperator)];
