import { factNamesIn, isFactCondition, type Condition, type FactCondition } from './conditions.js';
import { CustomOperator } from './operators.js';

/**
 * The facts an on-demand request (`POST /respond`, `riposte respond`)
 * carries about its instance: the account, region and partition it names,
 * and the instance itself (`resource.type` AwsEc2Instance, `resource.id`
 * its ARN). Everything else on the request's finding — product `riposte`,
 * its types, severity HIGH, workflow, record state — is made up by intake,
 * not a claim about the instance, so a match's conditions on those fields
 * cannot apply to a request.
 */
export const API_REQUEST_FIELDS: readonly string[] = Object.freeze(['account', 'region', 'partition', 'resource.type', 'resource.id']);

const API_FIELD_SET: ReadonlySet<string> = new Set(API_REQUEST_FIELDS);

/** Whether every fact `condition` reads is one an on-demand request carries. */
const readsApiFieldsOnly = (condition: Condition): boolean => [...factNamesIn(condition)].every((name) => API_FIELD_SET.has(name));

/**
 * What a playbook's match (its compiled `match` and `conditions`, before the
 * compiler binds it to trusted products) requires of an on-demand request:
 *
 * - a condition on a request's field is kept; one on any other field is
 *   "not asked" (it drops out: it holds for every request);
 * - `all` keeps its children that ask something;
 * - `any` with a child that asks nothing asks nothing (that alternative
 *   always holds);
 * - `not` is kept only when all it holds reads a request's fields: a `not`
 *   mixing them with others cannot be decided on a request, and drops out.
 *
 * `undefined` when nothing remains: the playbook takes every request.
 *
 * ```ts
 * // match: { product.id: guardduty, resource.type: AwsEc2Instance, account: { not: [111111111111] } }
 * apiMatchOf(compiled);
 * // { all: [{ fact: 'resource.type', operator: 'contains', value: 'AwsEc2Instance' },
 * //         { not: { fact: 'account', operator: 'in', value: ['111111111111'] } }] }
 * ```
 */
export function apiMatchOf(condition: Condition | undefined): Condition | undefined {
  return condition === undefined ? undefined : project(condition);
}

function project(condition: Condition): Condition | undefined {
  if (isFactCondition(condition)) return API_FIELD_SET.has(condition.fact) ? condition : undefined;
  if ('all' in condition) {
    const kept = condition.all.map(project).filter((child): child is Condition => child !== undefined);
    if (kept.length === 0) return undefined;
    return kept.length === 1 ? kept[0] : { all: kept };
  }
  if ('any' in condition) {
    const projected = condition.any.map(project);
    if (projected.some((child) => child === undefined)) return undefined;
    const kept = projected as Condition[];
    return kept.length === 1 ? kept[0] : { any: kept };
  }
  return readsApiFieldsOnly(condition.not) ? condition : undefined;
}

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const listed = (value: unknown): string => (Array.isArray(value) ? `[${value.map(shown).join(', ')}]` : shown(value));

/** One condition in words, as `validate --verbose` and a refused request print it. */
function describeFact({ fact, operator, value }: FactCondition): string {
  switch (operator) {
    case 'equal':
      return `${fact} = ${shown(value)}`;
    case 'notEqual':
      return `${fact} ≠ ${shown(value)}`;
    case 'in':
      return `${fact} in ${listed(value)}`;
    case 'notIn':
      return `${fact} not in ${listed(value)}`;
    case 'contains':
      return `${fact} has ${shown(value)}`;
    case 'doesNotContain':
      return `${fact} lacks ${shown(value)}`;
    case CustomOperator.ContainsAny:
      return `${fact} has any of ${listed(value)}`;
    case CustomOperator.Prefix:
      return `${fact} starts with ${Array.isArray(value) && value.length > 1 ? `one of ${listed(value)}` : listed(Array.isArray(value) ? value[0] : value)}`;
    case CustomOperator.Exists:
      return value === false ? `${fact} absent` : `${fact} present`;
    default:
      return `${fact} ${operator} ${listed(value)}`;
  }
}

function describeCondition(condition: Condition, nested: boolean): string {
  if (isFactCondition(condition)) return describeFact(condition);
  if ('not' in condition) return `not (${describeCondition(condition.not, false)})`;
  const [children, joiner] = 'all' in condition ? [condition.all, ' and '] : [condition.any, ' or '];
  const text = children.map((child) => describeCondition(child, true)).join(joiner);
  return nested && children.length > 1 ? `(${text})` : text;
}

/**
 * What an on-demand request must carry for the playbook to take it, in words:
 * `account in [111111111111, 222222222222] and resource.type has AwsEc2Instance`,
 * or `any instance` when its match asks nothing of a request.
 */
export function describeApiMatch(apiMatch: Condition | undefined): string {
  return apiMatch === undefined ? 'any instance' : describeCondition(apiMatch, false);
}
