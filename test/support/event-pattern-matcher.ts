/**
 * A small, test-only implementation of Amazon EventBridge event-pattern
 * matching, for the subset of patterns Riposte generates (and a little more,
 * so the tests can say what is *not* generated):
 *
 * - exact values: strings, numbers, booleans and `null`, listed in an array;
 * - `{ "prefix": "…" }`, `{ "suffix": "…" }` (strings only);
 * - `{ "numeric": [op, n] }` / `{ "numeric": [op, n, op, n] }` with `<`, `<=`,
 *   `=`, `>=`, `>` (JSON numbers only);
 * - `{ "exists": true | false }`;
 * - `{ "anything-but": value | [values] | { "prefix" } | { "suffix" } }`;
 * - nested objects, and `"$or": [pattern, pattern, …]` at any object level,
 *   ANDed with the sibling fields.
 *
 * Semantics, as documented by AWS and by Event Ruler (the open-source matcher
 * EventBridge's patterns come from, github.com/aws/event-ruler):
 *
 * - Fields of a pattern are ANDed; the values in a field's array are ORed.
 * - "If the value in the event is an array, then the event pattern matches if
 *   the intersection of the event pattern array and the event array is
 *   non-empty" (EventBridge user guide, *Arrays in event patterns*).
 * - Arrays of objects are flattened ("the array structure is 'crushed out' of
 *   the rule pattern, and any contained objects are treated as if they are the
 *   value of the parent field", Event Ruler README): `{findings: {Type: [x]}}`
 *   matches if ANY element of `findings` has `Type` x. The event becomes a list
 *   of leaf fields named by their dotted path (`detail.findings.Type`).
 * - `$or` is expanded into separate sub-rules; the pattern matches if one does.
 * - `arrays: 'flattened'` (default; Event Ruler's `rulesForEvent`): each field
 *   is matched on its own, so two fields may be satisfied by different
 *   elements of one array. `arrays: 'consistent'` (Event Ruler's
 *   `rulesForJSONEvent`, "array-consistent"): fields matched must come from the
 *   same element. Ruler walks a sub-rule's fields in sorted name order; each
 *   matched field fixes the array elements it sits in, and later fields
 *   (values and absences alike) only see fields in those elements.
 * - `exists` "only works on leaf nodes": a field exists when the flattened
 *   event has at least one scalar (string, number, boolean or null) at its
 *   path. An object there is not a leaf, so `{exists: false}` matches it; an
 *   empty array yields no leaf. So `{exists: false}` on a field inside an array
 *   of objects fails as soon as ONE element carries the field — in flattened
 *   mode always, in consistent mode unless a field sorted before it has
 *   already chosen an element without it (Event Ruler `NameState`
 *   `getNameTransitions`).
 * - Numeric matching: "Comparisons are precise to 6 digits to the right of the
 *   decimal point" (Event Ruler `ComparableNumber`, which turns a number into
 *   `(long) (1e6 * (5e9 + n))`); both sides are compared that way, so
 *   8.9999999 compares equal to 9.
 * - `prefix`, `suffix` and `numeric` never match values of other JSON types;
 *   exact values match by JSON type and value (`"5"` is not `5`).
 * - `anything-but` matches a present value that is none of the listed ones; it
 *   never matches a missing field.
 */

export type ArrayMode = 'flattened' | 'consistent';

export interface MatchOptions {
  /** `flattened` (default): fields match independently across array elements; `consistent`: within one element. */
  readonly arrays?: ArrayMode;
}

type JsonObject = { readonly [key: string]: unknown };

const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): value is string | number | boolean | null => value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Thrown for a pattern outside the modelled subset (an operator it does not model, or a shape EventBridge refuses). */
export class InvalidEventPatternError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path || '(root)'}: ${message}`);
    this.name = 'InvalidEventPatternError';
  }
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>=', '>']);
const FIVE_BILLION = 5e9;

/** Event Ruler's comparable form of a number: 6 decimal digits, truncated. */
function comparable(value: number): number {
  if (value < -FIVE_BILLION || value > FIVE_BILLION) return Number.NaN;
  return Math.trunc(1e6 * (FIVE_BILLION + value));
}

function compare(left: number, operator: string, right: number): boolean {
  const a = comparable(left);
  const b = comparable(right);
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (operator) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '=':
      return a === b;
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

function validateNumeric(operand: unknown, path: string): void {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new InvalidEventPatternError('"numeric" takes [op, n] or [op, n, op, n]', path);
  }
  for (let index = 0; index < operand.length; index += 2) {
    const operator: unknown = operand[index];
    const bound: unknown = operand[index + 1];
    if (typeof operator !== 'string' || !NUMERIC_OPERATORS.has(operator)) throw new InvalidEventPatternError(`unknown numeric operator ${JSON.stringify(operator)}`, path);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new InvalidEventPatternError(`numeric bound must be a number, got ${JSON.stringify(bound)}`, path);
  }
  if (operand.length === 4) {
    const lower = operand[0] as string;
    const upper = operand[2] as string;
    if (!(lower === '>' || lower === '>=') || !(upper === '<' || upper === '<=')) {
      throw new InvalidEventPatternError('a numeric range is [">" | ">=", low, "<" | "<=", high]', path);
    }
    if ((operand[1] as number) >= (operand[3] as number)) throw new InvalidEventPatternError('a numeric range must have low < high', path);
  }
}

function validateMatcher(item: unknown, path: string): void {
  if (isScalar(item)) return;
  if (!isObject(item)) throw new InvalidEventPatternError(`a value in a pattern array must be a scalar or an operator object, got ${JSON.stringify(item)}`, path);
  const keys = Object.keys(item);
  if (keys.length !== 1) throw new InvalidEventPatternError(`an operator object has exactly one key, got ${JSON.stringify(keys)}`, path);
  const [operator] = keys as [string];
  const operand = item[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand !== 'string') throw new InvalidEventPatternError(`"${operator}" takes a string`, path);
      return;
    case 'numeric':
      validateNumeric(operand, path);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw new InvalidEventPatternError('"exists" takes true or false', path);
      return;
    case 'anything-but': {
      if (typeof operand === 'string' || typeof operand === 'number') return;
      if (Array.isArray(operand)) {
        if (operand.length === 0 || !(operand.every((v) => typeof v === 'string') || operand.every((v) => typeof v === 'number'))) {
          throw new InvalidEventPatternError('"anything-but" takes a non-empty list of only strings or only numbers', path);
        }
        return;
      }
      if (isObject(operand) && Object.keys(operand).length === 1 && (typeof operand.prefix === 'string' || typeof operand.suffix === 'string')) return;
      throw new InvalidEventPatternError('"anything-but" takes a string, a number, a list, {prefix} or {suffix}', path);
    }
    default:
      throw new InvalidEventPatternError(`unsupported operator "${operator}"`, path);
  }
}

function validateObject(pattern: unknown, path: string): void {
  if (!isObject(pattern)) throw new InvalidEventPatternError('a pattern (or a nested field of one) must be an object', path);
  if (Object.keys(pattern).length === 0) throw new InvalidEventPatternError('an empty object matches nothing useful and is rejected', path);
  for (const [key, value] of Object.entries(pattern)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new InvalidEventPatternError('"$or" takes a list of at least two patterns', here);
      value.forEach((branch, index) => validateObject(branch, `${here}[${index}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError("a field's list of values must not be empty", here);
      value.forEach((item, index) => validateMatcher(item, `${here}[${index}]`));
    } else if (isObject(value)) {
      validateObject(value, here);
    } else {
      throw new InvalidEventPatternError(`must be an object or an array, got ${JSON.stringify(value)}`, here);
    }
  }
}

/** Throws InvalidEventPatternError when `pattern` is outside the modelled subset. */
export function validateEventPattern(pattern: unknown): void {
  validateObject(pattern, '');
}

/**
 * Every operator a (valid) pattern uses: `exact` for exact values, the
 * operator's key for operator objects (`prefix`, `exists`, …), and `$or`.
 */
export function operatorsIn(pattern: unknown, into = new Set<string>()): Set<string> {
  if (!isObject(pattern)) return into;
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or' && Array.isArray(value)) {
      into.add('$or');
      value.forEach((branch) => operatorsIn(branch, into));
    } else if (Array.isArray(value)) {
      for (const item of value) into.add(isScalar(item) ? 'exact' : isObject(item) ? (Object.keys(item)[0] ?? '{}') : typeof item);
    } else operatorsIn(value, into);
  }
  return into;
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

type Scalar = string | number | boolean | null;

/** One leaf of the flattened event: its dotted name, value, and the array elements it sits in (array id -> index). */
interface Field {
  readonly name: string;
  readonly value: Scalar;
  readonly membership: ReadonlyMap<number, number>;
}

/** Flattens an event the way Event Ruler does: one field per scalar leaf; objects and empty arrays yield none. */
function flattenEvent(event: unknown): Map<string, Field[]> {
  const fields = new Map<string, Field[]>();
  let nextArrayId = 0;
  const walk = (value: unknown, name: string, membership: ReadonlyMap<number, number>): void => {
    if (Array.isArray(value)) {
      const id = nextArrayId++;
      value.forEach((element, index) => walk(element, name, new Map(membership).set(id, index)));
    } else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, name === '' ? key : `${name}.${key}`, membership);
    } else if (isScalar(value) && name !== '') {
      const list = fields.get(name) ?? [];
      list.push({ name, value, membership });
      fields.set(name, list);
    }
  };
  walk(event, '', new Map());
  return fields;
}

/** A pattern without `$or`: flattened field name -> value lists that must all accept one field (usually one list). */
type SubRule = ReadonlyMap<string, readonly (readonly unknown[])[]>;

function merge(a: SubRule, b: SubRule): SubRule {
  const out = new Map(a);
  for (const [key, lists] of b) out.set(key, [...(out.get(key) ?? []), ...lists]);
  return out;
}

/** Expands every `$or` into separate sub-rules (the way Event Ruler compiles them), flattening field names. */
function subRules(pattern: JsonObject, prefix = ''): SubRule[] {
  let rules: SubRule[] = [new Map()];
  for (const [key, sub] of Object.entries(pattern)) {
    const alternatives: SubRule[] =
      key === '$or'
        ? (sub as JsonObject[]).flatMap((branch) => subRules(branch, prefix))
        : Array.isArray(sub)
          ? [new Map([[`${prefix}${key}`, [sub]]])]
          : subRules(sub as JsonObject, `${prefix}${key}.`);
    rules = rules.flatMap((rule) => alternatives.map((alternative) => merge(rule, alternative)));
  }
  return rules;
}

function matchesAnythingBut(operand: unknown, value: Scalar): boolean {
  if (typeof operand === 'string' || typeof operand === 'number') return value !== operand;
  if (Array.isArray(operand)) return !operand.includes(value);
  const object = operand as { prefix?: string; suffix?: string };
  if (typeof value !== 'string') return false;
  if (object.prefix !== undefined) return !value.startsWith(object.prefix);
  if (object.suffix !== undefined) return !value.endsWith(object.suffix);
  return false;
}

function matchesNumeric(operand: readonly (string | number)[], value: Scalar): boolean {
  if (typeof value !== 'number') return false;
  for (let index = 0; index < operand.length; index += 2) {
    if (!compare(value, operand[index] as string, operand[index + 1] as number)) return false;
  }
  return true;
}

const isAbsence = (item: unknown): boolean => isObject(item) && item.exists === false;

/** Does one item of a field's value list accept this (present) value? `{exists: false}` never does. */
function acceptsValue(item: unknown, value: Scalar): boolean {
  if (isScalar(item)) return item === value;
  const object = item as JsonObject;
  const [operator] = Object.keys(object) as [string];
  const operand = object[operator];
  switch (operator) {
    case 'exists':
      return operand === true;
    case 'prefix':
      return typeof value === 'string' && value.startsWith(operand as string);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(operand as string);
    case 'numeric':
      return matchesNumeric(operand as (string | number)[], value);
    case 'anything-but':
      return matchesAnythingBut(operand, value);
    default:
      return false;
  }
}

function consistentWith(membership: ReadonlyMap<number, number>, other: ReadonlyMap<number, number>): boolean {
  for (const [array, index] of other) {
    const mine = membership.get(array);
    if (mine !== undefined && mine !== index) return false;
  }
  return true;
}

/**
 * Walks a sub-rule's fields in sorted name order, as Event Ruler's state
 * machine does. A value list is satisfied by a field of that name whose value
 * it accepts; `{exists: false}` by there being no field of that name. In
 * consistent mode, only fields in the array elements already chosen by the
 * fields matched before count, for values and for absence alike.
 */
function matchesSubRule(rule: SubRule, fields: ReadonlyMap<string, readonly Field[]>, consistent: boolean): boolean {
  const names = [...rule.keys()].sort();
  const step = (position: number, membership: ReadonlyMap<number, number>): boolean => {
    if (position === names.length) return true;
    const name = names[position] as string;
    const lists = rule.get(name) ?? [];
    const candidates = (fields.get(name) ?? []).filter((field) => !consistent || consistentWith(membership, field.membership));
    if (candidates.length === 0 && lists.every((list) => list.some(isAbsence)) && step(position + 1, membership)) return true;
    for (const field of candidates) {
      if (!lists.every((list) => list.some((item) => acceptsValue(item, field.value)))) continue;
      const next = consistent ? new Map([...membership, ...field.membership]) : membership;
      if (step(position + 1, next)) return true;
    }
    return false;
  };
  return step(0, new Map());
}

/**
 * Whether EventBridge would deliver `event` to a rule with `pattern`.
 * @throws InvalidEventPatternError for a pattern outside the modelled subset.
 */
export function matchesEventPattern(pattern: unknown, event: unknown, options: MatchOptions = {}): boolean {
  validateEventPattern(pattern);
  const fields = flattenEvent(event);
  return subRules(pattern as JsonObject).some((rule) => matchesSubRule(rule, fields, options.arrays === 'consistent'));
}

/** Whether `event` matches at least one of `patterns` (the rules of one playbook). */
export function matchesAnyEventPattern(patterns: readonly unknown[], event: unknown, options: MatchOptions = {}): boolean {
  return patterns.some((pattern) => matchesEventPattern(pattern, event, options));
}
