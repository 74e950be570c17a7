import { nearest } from '../suggest.js';
import type { Condition } from './conditions.js';
import { fieldSpec, MATCHABLE_FIELD_NAMES, type FieldSpec } from './fields.js';
import { CustomOperator, KNOWN_OPERATORS } from './operators.js';
import { problem, type DocumentPath, type Problem } from './problems.js';

/**
 * The `match` language, compiled to json-rules-engine conditions:
 *
 * ```yaml
 * match:
 *   source: guardduty                         # equality ("contains" on list fields)
 *   severity.label: [HIGH, CRITICAL]          # a list means any of
 *   types: { prefix: ["Backdoor:EC2/"] }      # operators: equals, in, prefix, gt, gte, lt, lte, exists, not
 *   any:                                      # nested all / any / not
 *     - control.id: IAM.15
 *     - configRule.name: iam-password-policy
 * ```
 *
 * Every field and value is type-checked here: a wrong type is a compile
 * error, never a rule that silently matches nothing.
 */
export const MATCH_OPERATORS = ['equals', 'in', 'prefix', 'gt', 'gte', 'lt', 'lte', 'exists', 'not'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;

type Scalar = string | number | boolean;
const isScalar = (value: unknown): value is Scalar => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
const isMapping = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
/** Whether every number in `value` (at any depth) is finite, as JSON requires. */
function finiteThroughout(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(finiteThroughout);
  if (value !== null && typeof value === 'object') return Object.values(value).every(finiteThroughout);
  return true;
}

/** A value as a problem names it; numbers by String, as JSON would call `.nan` and `.inf` null. */
const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `${typeof value} ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`;

/**
 * What each operator's value must be, so a raw condition cannot fail (or
 * throw) at run time instead of compiling. A `Map`: operator names come from
 * the playbook, and must never find `Object.prototype`'s members.
 */
const RAW_VALUE_SHAPES: ReadonlyMap<string, { readonly wanted: string; check(value: unknown): boolean }> = new Map([
  [
    CustomOperator.Prefix,
    {
      wanted: 'a non-empty list of non-empty texts',
      check: (value: unknown) => Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== ''),
    },
  ],
  [CustomOperator.ContainsAny, { wanted: 'a non-empty list', check: (value: unknown) => Array.isArray(value) && value.length > 0 }],
  ['in', { wanted: 'a non-empty list', check: (value: unknown) => Array.isArray(value) && value.length > 0 }],
  ['notIn', { wanted: 'a list', check: Array.isArray }],
  [CustomOperator.Exists, { wanted: 'true or false', check: (value: unknown) => typeof value === 'boolean' }],
]);

export interface CompiledMatch {
  readonly condition: Condition | undefined;
  readonly problems: readonly Problem[];
}

class MatchCompiler {
  readonly problems: Problem[] = [];

  block(node: unknown, path: DocumentPath): Condition | undefined {
    if (!isMapping(node)) {
      this.problems.push(problem(path, `must be a mapping of field: condition, got ${describe(node)}`));
      return undefined;
    }
    const parts: Condition[] = [];
    for (const [key, value] of Object.entries(node)) {
      const condition = this.entry(key, value, [...path, key]);
      if (condition !== undefined) parts.push(condition);
    }
    if (parts.length === 0) {
      if (Object.keys(node).length === 0) this.problems.push(problem(path, 'is empty: it would match every finding; name at least one field'));
      return undefined;
    }
    return parts.length === 1 ? parts[0] : { all: parts };
  }

  entry(key: string, value: unknown, path: DocumentPath): Condition | undefined {
    if (key === 'all' || key === 'any') {
      if (!Array.isArray(value) || value.length === 0) {
        this.problems.push(problem(path, `must be a non-empty list of conditions, got ${describe(value)}`));
        return undefined;
      }
      const children = value.map((child, index) => this.block(child, [...path, index])).filter((c): c is Condition => c !== undefined);
      if (children.length !== value.length) return undefined;
      return key === 'all' ? { all: children } : { any: children };
    }
    if (key === 'not') {
      const inner = this.block(value, path);
      return inner === undefined ? undefined : { not: inner };
    }
    const spec = fieldSpec(key);
    if (spec === undefined) {
      this.problems.push(
        problem(path, `"${key}" is not a field Riposte can match on`, {
          suggestion: nearest(key, [...MATCHABLE_FIELD_NAMES, ...COMBINATORS]),
          atKey: true,
        }),
      );
      return undefined;
    }
    if (spec.internal === true) {
      this.problems.push(problem(path, `"${key}" is set by how the run was triggered: bind it with "triggers:" instead`, { atKey: true }));
      return undefined;
    }
    return this.field(key, spec, value, path);
  }

  field(name: string, spec: FieldSpec, value: unknown, path: DocumentPath): Condition | undefined {
    if (isScalar(value)) return this.equals(name, spec, value, path);
    if (Array.isArray(value)) return this.anyOf(name, spec, value, path);
    if (!isMapping(value)) {
      this.problems.push(problem(path, `must be a value, a list of values or operators (${MATCH_OPERATORS.join(', ')}), got ${describe(value)}`));
      return undefined;
    }
    const parts: Condition[] = [];
    for (const [operator, operand] of Object.entries(value)) {
      const condition = this.operator(name, spec, operator, operand, [...path, operator]);
      if (condition !== undefined) parts.push(condition);
    }
    if (Object.keys(value).length === 0) this.problems.push(problem(path, `needs an operator: ${MATCH_OPERATORS.join(', ')}`));
    if (parts.length !== Object.keys(value).length || parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : { all: parts };
  }

  operator(name: string, spec: FieldSpec, operator: string, operand: unknown, path: DocumentPath): Condition | undefined {
    switch (operator) {
      case 'equals':
        if (!isScalar(operand)) return this.fail(path, `must be a single value, got ${describe(operand)}`);
        return this.equals(name, spec, operand, path);
      case 'in':
        if (!Array.isArray(operand)) return this.fail(path, `must be a list of values, got ${describe(operand)}`);
        return this.anyOf(name, spec, operand, path);
      case 'prefix': {
        if (spec.type === 'number') return this.fail(path, `"prefix" applies to text fields; ${name} is a number`);
        const prefixes = Array.isArray(operand) ? operand : [operand];
        if (prefixes.length === 0 || !prefixes.every((item) => typeof item === 'string' && item !== '')) {
          return this.fail(path, `must be a prefix or a list of prefixes (non-empty text), got ${describe(operand)}`);
        }
        return { fact: name, operator: CustomOperator.Prefix, value: prefixes };
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        if (spec.type !== 'number') return this.fail(path, `"${operator}" compares numbers; ${name} is ${spec.type === 'string' ? 'text' : 'a list of texts'}`);
        if (typeof operand !== 'number' || !Number.isFinite(operand)) return this.fail(path, `must be a number, got ${describe(operand)}`);
        const engineOperator = { gt: 'greaterThan', gte: 'greaterThanInclusive', lt: 'lessThan', lte: 'lessThanInclusive' }[operator];
        return { fact: name, operator: engineOperator, value: operand };
      }
      case 'exists':
        if (typeof operand !== 'boolean') return this.fail(path, `must be true or false, got ${describe(operand)}`);
        return { fact: name, operator: CustomOperator.Exists, value: operand };
      case 'not': {
        const inner = this.field(name, spec, operand, path);
        return inner === undefined ? undefined : { not: inner };
      }
      default:
        this.problems.push(
          problem(path, `"${operator}" is not a match operator (${MATCH_OPERATORS.join(', ')})`, {
            suggestion: nearest(operator, MATCH_OPERATORS),
            atKey: true,
          }),
        );
        return undefined;
    }
  }

  equals(name: string, spec: FieldSpec, value: Scalar, path: DocumentPath): Condition | undefined {
    if (!this.checkValue(name, spec, value, path)) return undefined;
    return spec.type === 'string[]' ? { fact: name, operator: 'contains', value } : { fact: name, operator: 'equal', value };
  }

  anyOf(name: string, spec: FieldSpec, values: readonly unknown[], path: DocumentPath): Condition | undefined {
    if (values.length === 0) return this.fail(path, 'is an empty list: it would match nothing');
    let ok = true;
    values.forEach((value, index) => {
      if (!isScalar(value)) {
        this.problems.push(problem([...path, index], `must be a single value, got ${describe(value)}`));
        ok = false;
      } else if (!this.checkValue(name, spec, value, [...path, index])) ok = false;
    });
    if (!ok) return undefined;
    return spec.type === 'string[]' ? { fact: name, operator: CustomOperator.ContainsAny, value: values } : { fact: name, operator: 'in', value: values };
  }

  checkValue(name: string, spec: FieldSpec, value: Scalar, path: DocumentPath): boolean {
    const wanted = spec.type === 'number' ? 'number' : 'string';
    if (typeof value !== wanted) {
      this.problems.push(problem(path, `${name} is ${wanted === 'number' ? 'a number' : 'text'}, got ${describe(value)}`));
      return false;
    }
    if (spec.values !== undefined && !spec.values.includes(value as string)) {
      this.problems.push(
        problem(path, `${JSON.stringify(value)} is not a value of ${name} (${spec.values.join(', ')})`, {
          suggestion: nearest(String(value), spec.values),
        }),
      );
      return false;
    }
    return true;
  }

  /** The escape hatch: raw json-rules-engine conditions, checked for known facts and operators. */
  raw(node: unknown, path: DocumentPath): Condition | undefined {
    if (!isMapping(node)) return this.fail(path, `must be a json-rules-engine condition (all, any, not, or fact/operator/value), got ${describe(node)}`);
    for (const combinator of ['all', 'any'] as const) {
      if (Object.hasOwn(node, combinator)) {
        const children = node[combinator];
        if (!Array.isArray(children) || children.length === 0) return this.fail([...path, combinator], 'must be a non-empty list of conditions');
        const compiled = children.map((child, index) => this.raw(child, [...path, combinator, index]));
        if (compiled.some((child) => child === undefined)) return undefined;
        return combinator === 'all' ? { all: compiled as Condition[] } : { any: compiled as Condition[] };
      }
    }
    if (Object.hasOwn(node, 'not')) {
      const inner = this.raw(node.not, [...path, 'not']);
      return inner === undefined ? undefined : { not: inner };
    }
    const { fact, operator, value } = node;
    const unknownKeys = Object.keys(node).filter((key) => !['fact', 'operator', 'value'].includes(key));
    if (unknownKeys.length > 0) {
      const key = unknownKeys[0] as string;
      return this.fail([...path, key], `"${key}" is not part of a condition (fact, operator, value; or all, any, not)`, nearest(key, ['fact', 'operator', 'value', 'all', 'any', 'not']), true);
    }
    if (typeof fact !== 'string') return this.fail([...path, 'fact'], 'is missing: name the fact this condition reads');
    const spec = fieldSpec(fact);
    if (spec === undefined) return this.fail([...path, 'fact'], `"${fact}" is not a fact Riposte provides`, nearest(fact, MATCHABLE_FIELD_NAMES));
    if (spec.internal === true) return this.fail([...path, 'fact'], `"${fact}" is set by how the run was triggered: bind it with "triggers:" instead`);
    if (typeof operator !== 'string') return this.fail([...path, 'operator'], 'is missing');
    if (!KNOWN_OPERATORS.includes(operator)) return this.fail([...path, 'operator'], `"${operator}" is not an operator (${KNOWN_OPERATORS.join(', ')})`, nearest(operator, KNOWN_OPERATORS));
    const numeric = ['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'].includes(operator);
    if (numeric && (spec.type !== 'number' || typeof value !== 'number')) {
      return this.fail([...path, 'operator'], `"${operator}" compares numbers; ${fact} is ${spec.type === 'number' ? 'a number but the value is not' : 'not a number'}`);
    }
    if (!Object.hasOwn(node, 'value')) return this.fail([...path, 'value'], 'is missing');
    // The compiled rule is JSON (the packaged library, the API): YAML's .inf and .nan have no JSON form.
    if (!finiteThroughout(value)) return this.fail([...path, 'value'], `must be a finite number (or hold only finite numbers), got ${describe(value)}`);
    // json-rules-engine reads a mapping holding `fact` as another fact's value, which no matcher computes for this rule.
    if (isMapping(value) || (Array.isArray(value) && value.some(isMapping))) return this.fail([...path, 'value'], `must be a value or a list of values, got ${describe(value)}`);
    const shape = RAW_VALUE_SHAPES.get(operator);
    if (shape !== undefined && !shape.check(value)) return this.fail([...path, 'value'], `"${operator}" needs ${shape.wanted}, got ${describe(value)}`);
    return { fact, operator, value };
  }

  fail(path: DocumentPath, message: string, suggestion?: string, atKey = false): undefined {
    this.problems.push(problem(path, message, { suggestion, atKey }));
    return undefined;
  }
}

/** Compiles a playbook's `match` block and raw `conditions` into one condition (all of both). */
export function compileMatch(match: unknown, conditions: unknown, path: DocumentPath = []): CompiledMatch {
  const compiler = new MatchCompiler();
  const parts: Condition[] = [];
  if (match !== undefined) {
    const compiled = compiler.block(match, [...path, 'match']);
    if (compiled !== undefined) parts.push(compiled);
  }
  if (conditions !== undefined) {
    const compiled = compiler.raw(conditions, [...path, 'conditions']);
    if (compiled !== undefined) parts.push(compiled);
  }
  const condition = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { all: parts };
  return { condition, problems: compiler.problems };
}
