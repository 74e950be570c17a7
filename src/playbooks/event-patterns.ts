import { firstDisjunction, necessaryConditions, type Condition, type FactCondition } from './conditions.js';

/**
 * An EventBridge event pattern (the subset Riposte writes): values are lists
 * of exact values or of `{prefix}`, `{suffix}`, `{numeric}`, `{exists}`
 * matchers; `$or` lists alternatives.
 */
export type EventPattern = { readonly [key: string]: EventPattern | readonly PatternValue[] | readonly EventPattern[] };
export type PatternValue = string | number | boolean | { readonly prefix: string } | { readonly suffix: string } | { readonly numeric: readonly (string | number)[] } | { readonly exists: boolean };

type Constraint = { readonly values?: readonly string[]; readonly prefixes?: readonly string[] };

/**
 * What a playbook's necessary conditions say about each field: the values it
 * must take (equal / in / contains / containsAny) or prefixes (prefix).
 * Negations and alternatives say nothing here — patterns only ever narrow
 * on conditions that must hold, so they are never narrower than the rule.
 */
function constraintsOf(conditions: readonly FactCondition[]): Map<string, Constraint> {
  const constraints = new Map<string, Constraint>();
  const narrow = (fact: string, next: Constraint): void => {
    const current = constraints.get(fact);
    if (current === undefined) {
      constraints.set(fact, next);
      return;
    }
    // Two necessary conditions on one fact: keep the tighter (the first with values).
    if (current.values === undefined && next.values !== undefined) constraints.set(fact, next);
  };
  for (const condition of conditions) {
    const { fact, operator, value } = condition;
    if ((operator === 'equal' || operator === 'contains') && typeof value === 'string') narrow(fact, { values: [value] });
    else if ((operator === 'in' || operator === 'containsAny') && Array.isArray(value) && value.every((v) => typeof v === 'string')) narrow(fact, { values: value });
    else if (operator === 'prefix' && Array.isArray(value)) narrow(fact, { prefixes: value as string[] });
  }
  return constraints;
}

type Kind = 'asff' | 'ocsf' | 'guardduty' | 'config-rule';
/*
 * The tables below are looked up by values a playbook wrote (a raw condition
 * may compare `source` with any text): `Map`s, so `constructor` or
 * `toString` finds nothing rather than `Object.prototype`'s member.
 */
const KINDS_OF_SOURCE: ReadonlyMap<string, readonly Kind[]> = new Map<string, readonly Kind[]>([
  ['securityhub', ['asff', 'ocsf']],
  ['guardduty', ['guardduty']],
  ['config', ['config-rule']],
  ['api', []],
]);

const values = (constraint: Constraint | undefined): readonly string[] | undefined => constraint?.values;
const or = (...alternatives: EventPattern[]): EventPattern => ({ $or: alternatives });

/**
 * GuardDuty's severity bands, as numeric ranges on its 1.0–10.0 score. Upper
 * bounds are inclusive because EventBridge compares numbers to six decimal
 * places: 6.9999996 is MEDIUM to Riposte and 7 to EventBridge.
 */
const GUARDDUTY_SEVERITY: ReadonlyMap<string, readonly (string | number)[]> = new Map<string, readonly (string | number)[]>([
  ['INFORMATIONAL', ['<=', 1]],
  ['LOW', ['>=', 1, '<=', 4]],
  ['MEDIUM', ['>=', 4, '<=', 7]],
  ['HIGH', ['>=', 7, '<=', 9]],
  ['CRITICAL', ['>=', 9]],
]);
/** Security Hub's normalized ranges per label, for findings that send no label. */
const NORMALIZED_SEVERITY: ReadonlyMap<string, readonly (string | number)[]> = new Map<string, readonly (string | number)[]>([
  ['INFORMATIONAL', ['<=', 0]],
  ['LOW', ['>=', 1, '<=', 39]],
  ['MEDIUM', ['>=', 40, '<=', 69]],
  ['HIGH', ['>=', 70, '<=', 89]],
  ['CRITICAL', ['>=', 90]],
]);

/** Suffixes every requirement text naming a CIS rule ends with ("… v1.2.0/1.9", "CIS AWS Foundations 1.9"). */
const cisRequirementSuffixes = (rules: readonly string[]): PatternValue[] =>
  [
    ...new Set(
      rules.flatMap((rule) => {
        const number = rule.split('/').pop() ?? rule;
        return [`/${number}`, ` ${number}`];
      }),
    ),
  ].map((suffix) => ({ suffix }));
const cisRuleNumbers = (rules: readonly string[]): string[] => [...new Set(rules.map((rule) => rule.split('/').pop() ?? rule))];
/** OCSF severity_id per label; INFORMATIONAL also covers unknown ids, so it never narrows. */
const OCSF_SEVERITY: ReadonlyMap<string, readonly number[]> = new Map<string, readonly number[]>([
  ['LOW', [2]],
  ['MEDIUM', [3]],
  ['HIGH', [4]],
  ['CRITICAL', [5, 6]],
]);
const OCSF_COMPLIANCE: ReadonlyMap<string, number> = new Map([
  ['PASSED', 1],
  ['WARNING', 2],
  ['FAILED', 3],
]);
const CONFIG_COMPLIANCE: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['PASSED', ['COMPLIANT']],
  ['FAILED', ['NON_COMPLIANT']],
  ['NOT_AVAILABLE', ['NOT_APPLICABLE', 'INSUFFICIENT_DATA']],
]);

/**
 * ASFF `ProductArn` matchers for product ids, as intake reads them: an AWS
 * service's id (no `/`) only from `…::product/aws/<id>` (no account: AWS
 * owns it), a partner's `<company>/<product>` from `…::product/<company>/<product>`,
 * an account's own `<account>/<product>` from any ARN of that account ending
 * in the product (a pattern cannot say "this account, that product" in one
 * matcher, so it keeps only the end). `undefined` where an id cannot be
 * said at all: `unverified/…` ids come from names and from ARNs elsewhere.
 * This is what keeps a control playbook (bound to `securityhub`) from being
 * delivered an account's default-product finding that claims a control.
 */
function productArnMatchers(ids: readonly string[]): PatternValue[] | undefined {
  const matchers: PatternValue[] = [];
  for (const id of ids) {
    const [company = '', product, ...extra] = id.split('/');
    if (id.startsWith('arn:')) matchers.push(id);
    else if (product === undefined) matchers.push({ suffix: `::product/aws/${id}` });
    else if (company === 'unverified' || extra.length > 0 || product === '') return undefined;
    else matchers.push({ suffix: /^\d{12}$/.test(company) ? `/${product}` : `::product/${id}` });
  }
  return matchers;
}

function asffPattern(c: Map<string, Constraint>): EventPattern {
  const finding: Record<string, unknown> = {};
  const alternatives: EventPattern[][] = [];
  const products = values(c.get('product.id'));
  const productArns = products === undefined ? undefined : productArnMatchers(products);
  if (productArns !== undefined) finding.ProductArn = productArns;
  const controls = values(c.get('control.id'));
  if (controls !== undefined) {
    // control.id is SecurityControlId, else ControlId, else RuleId, else the end of StandardsControlArn.
    alternatives.push([
      { Compliance: { SecurityControlId: controls } },
      { ProductFields: { ControlId: controls } },
      { ProductFields: { RuleId: controls } },
      { ProductFields: { StandardsControlArn: controls.map((id) => ({ suffix: `/${id}` })) } },
    ]);
  }
  const cisRules = values(c.get('control.cisRules'));
  if (cisRules !== undefined) {
    // A CIS rule comes from a related requirement's text, or from the standard's own control id.
    const numbers = cisRuleNumbers(cisRules);
    alternatives.push([
      { Compliance: { RelatedRequirements: cisRequirementSuffixes(cisRules) } },
      { ProductFields: { ControlId: numbers } },
      { ProductFields: { RuleId: numbers } },
      { ProductFields: { StandardsControlArn: numbers.map((number) => ({ suffix: `/${number}` })) } },
    ]);
  }
  const compliance = values(c.get('compliance.status'));
  if (compliance !== undefined) finding.Compliance = { Status: compliance };
  const labels = values(c.get('severity.label'));
  if (labels !== undefined) {
    // The label, or for a finding without one, the normalized value it is derived from.
    // (`$or` inside Severity keeps it from multiplying with the other alternatives.)
    finding.Severity = { $or: [{ Label: labels }, { Normalized: labels.map((label) => ({ numeric: NORMALIZED_SEVERITY.get(label) ?? ['>=', 0] })) }] };
  }
  // Workflow and record state are not narrowed on: a finding without them reads
  // as NEW / ACTIVE, and "absent" cannot be said soundly of one finding in a batch.
  const accounts = values(c.get('account'));
  if (accounts !== undefined) finding.AwsAccountId = accounts;
  const resourceTypes = values(c.get('resource.type'));
  if (resourceTypes !== undefined) finding.Resources = { Type: resourceTypes };
  // Riposte adds GuardDuty's own type to GuardDuty findings, which the raw ASFF
  // does not carry: narrow on Types only when the product cannot be GuardDuty.
  const types = c.get('types');
  if (types !== undefined && products !== undefined && !products.includes('guardduty')) {
    finding.Types = types.values ?? (types.prefixes ?? []).map((prefix) => ({ prefix }));
  }
  return withAlternatives(finding, alternatives);
}

function ocsfPattern(c: Map<string, Constraint>): EventPattern {
  const finding: Record<string, unknown> = {};
  const alternatives: EventPattern[][] = [];
  // Not narrowed on product: intake reads it from the product uid or, without
  // one, from the product name, and a pattern cannot say "this, or absent".
  // The rule still requires the product (Security Hub's, for control playbooks).
  const controls = values(c.get('control.id'));
  if (controls !== undefined) finding.compliance = { control: controls };
  const cisRules = values(c.get('control.cisRules'));
  if (cisRules !== undefined) finding.compliance = { ...(finding.compliance as object), requirements: cisRequirementSuffixes(cisRules) };
  const compliance = values(c.get('compliance.status'));
  if (compliance !== undefined && compliance.every((status) => OCSF_COMPLIANCE.has(status))) {
    finding.compliance = { ...(finding.compliance as object), status_id: compliance.map((status) => OCSF_COMPLIANCE.get(status) as number) };
  }
  const labels = values(c.get('severity.label'));
  if (labels !== undefined && labels.every((label) => OCSF_SEVERITY.has(label))) finding.severity_id = labels.flatMap((label) => OCSF_SEVERITY.get(label) ?? []);
  const accounts = values(c.get('account'));
  if (accounts !== undefined) finding.cloud = { account: { uid: accounts } };
  const rules = c.get('configRule.name');
  if (rules !== undefined) finding.finding_info = { analytic: { name: rules.values ?? (rules.prefixes ?? []).map((prefix) => ({ prefix })) } };
  const types = c.get('types');
  if (types !== undefined) {
    finding.finding_info = { ...(finding.finding_info as object), types: types.values ?? (types.prefixes ?? []).map((prefix) => ({ prefix })) };
  }
  return withAlternatives(finding, alternatives);
}

function guardDutyPattern(c: Map<string, Constraint>): EventPattern {
  const detail: Record<string, unknown> = {};
  const types = c.get('types');
  if (types !== undefined) detail.type = types.values ?? (types.prefixes ?? []).map((prefix) => ({ prefix }));
  const labels = values(c.get('severity.label'));
  if (labels !== undefined) detail.severity = labels.map((label) => ({ numeric: GUARDDUTY_SEVERITY.get(label) ?? ['>=', 0] }));
  const accounts = values(c.get('account'));
  if (accounts !== undefined) detail.accountId = accounts;
  // One finding per event, outside any array: "false or absent" is sound here.
  const record = values(c.get('recordState'));
  if (record !== undefined && !record.includes('ARCHIVED')) detail.service = { archived: [false, { exists: false }] };
  return detail as EventPattern;
}

function configPattern(c: Map<string, Constraint>): EventPattern {
  const detail: Record<string, unknown> = {};
  const rules = c.get('configRule.name');
  if (rules !== undefined) detail.configRuleName = rules.values ?? (rules.prefixes ?? []).map((prefix) => ({ prefix }));
  const compliance = values(c.get('compliance.status'));
  if (compliance !== undefined && compliance.every((status) => CONFIG_COMPLIANCE.has(status))) {
    detail.newEvaluationResult = { complianceType: compliance.flatMap((status) => CONFIG_COMPLIANCE.get(status) ?? []) };
  }
  const accounts = values(c.get('account'));
  if (accounts !== undefined) detail.awsAccountId = accounts;
  return detail as EventPattern;
}

function withAlternatives(fields: Record<string, unknown>, alternatives: EventPattern[][]): EventPattern {
  // EventBridge allows one $or per object level: extra alternatives nest inside the first's branches.
  const [first, ...rest] = alternatives;
  if (first === undefined) return fields as EventPattern;
  const nested = rest.length === 0 ? undefined : withAlternatives({}, rest);
  return { ...(fields as EventPattern), ...or(...first.map((branch) => (nested === undefined ? branch : { ...branch, ...nested }))) };
}

/**
 * EventBridge patterns that deliver the findings a playbook's automatic
 * trigger can match — as narrow as its necessary conditions allow, never
 * narrower: every event whose finding the rule matches matches a pattern.
 */
export function automaticEventPatterns(conditions: readonly FactCondition[]): EventPattern[] {
  const c = constraintsOf(conditions);
  let kinds: Kind[] = ['asff', 'ocsf', 'guardduty', 'config-rule'];
  const sources = values(c.get('source'));
  if (sources !== undefined) kinds = kinds.filter((kind) => sources.some((source) => KINDS_OF_SOURCE.get(source)?.includes(kind)));
  const formats = values(c.get('format'));
  if (formats !== undefined) kinds = kinds.filter((kind) => formats.includes(kind));
  const products = values(c.get('product.id'));
  if (products !== undefined) {
    if (!products.includes('guardduty')) kinds = kinds.filter((kind) => kind !== 'guardduty');
    if (!products.includes('config')) kinds = kinds.filter((kind) => kind !== 'config-rule');
  }
  // Native GuardDuty and Config findings carry no control; native GuardDuty no Config rule.
  if (c.has('control.id') || c.has('control.cisRules') || c.has('control.standards')) kinds = kinds.filter((kind) => kind === 'asff' || kind === 'ocsf');
  if (c.has('configRule.name')) kinds = kinds.filter((kind) => kind === 'config-rule' || kind === 'ocsf');
  // Native GuardDuty findings have no compliance status.
  if (c.has('compliance.status')) kinds = kinds.filter((kind) => kind !== 'guardduty');

  return kinds.map((kind): EventPattern => {
    switch (kind) {
      case 'asff': {
        const findings = asffPattern(c);
        return { source: ['aws.securityhub'], 'detail-type': ['Security Hub Findings - Imported'], ...(Object.keys(findings).length === 0 ? {} : { detail: { findings } }) };
      }
      case 'ocsf': {
        const findings = ocsfPattern(c);
        return { source: ['aws.securityhub'], 'detail-type': ['Findings Imported V2'], ...(Object.keys(findings).length === 0 ? {} : { detail: { findings } }) };
      }
      case 'guardduty': {
        const detail = guardDutyPattern(c);
        return { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], ...(Object.keys(detail).length === 0 ? {} : { detail }) };
      }
      case 'config-rule': {
        const detail = configPattern(c);
        return { source: ['aws.config'], 'detail-type': ['Config Rules Compliance Change'], ...(Object.keys(detail).length === 0 ? {} : { detail }) };
      }
    }
  });
}

/** EventBridge's default limit on the size of an event pattern. */
export const MAX_PATTERN_CHARACTERS = 2_048;

function withoutAlternatives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAlternatives);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '$or')
      .map(([key, child]) => [key, withoutAlternatives(child)]),
  );
}

/**
 * Keeps a pattern within EventBridge's size limit by broadening it: first
 * without its `$or` alternatives (dropping a constraint never narrows), then,
 * if still too large, to its source and detail-type alone.
 */
export function withinSizeLimit(pattern: EventPattern): EventPattern {
  if (JSON.stringify(pattern).length <= MAX_PATTERN_CHARACTERS) return pattern;
  const broader = withoutAlternatives(pattern) as EventPattern;
  if (JSON.stringify(broader).length <= MAX_PATTERN_CHARACTERS) return broader;
  return { source: pattern.source as readonly PatternValue[], 'detail-type': pattern['detail-type'] as readonly PatternValue[] };
}

/** The pattern for a Security Hub custom action, by the end of its ARN (the account and region are the deployment's). */
export function customActionEventPattern(actionId: string): EventPattern {
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Custom Action'],
    resources: [{ suffix: `:action/custom/${actionId}` }],
  };
}

const BASE_KEYS = new Set(['source', 'detail-type']);

/**
 * Patterns for a playbook's automatic trigger, following one top-level
 * `any` branch by branch (a Config rule name in one branch, a control id in
 * another), merged per event kind with `$or`. Never narrower than the rule:
 * each branch's patterns cover the findings that branch matches.
 */
export function eventPatternsForMatch(condition: Condition): EventPattern[] {
  const necessary = necessaryConditions(condition);
  const branches = firstDisjunction(condition);
  if (branches === undefined) return automaticEventPatterns(necessary).map(withinSizeLimit);
  const byKind = new Map<string, EventPattern[]>();
  for (const branch of branches) {
    for (const pattern of automaticEventPatterns([...necessary, ...necessaryConditions(branch)])) {
      const kind = JSON.stringify([pattern.source, pattern['detail-type']]);
      byKind.set(kind, [...(byKind.get(kind) ?? []), pattern]);
    }
  }
  return [...byKind.values()].map((patterns) => {
    const first = patterns[0] as EventPattern;
    const rests = patterns.map((pattern): EventPattern => Object.fromEntries(Object.entries(pattern).filter(([key]) => !BASE_KEYS.has(key))));
    // A branch with nothing to narrow on accepts every event of this kind.
    if (rests.some((rest) => Object.keys(rest).length === 0)) return { source: first.source, 'detail-type': first['detail-type'] } as EventPattern;
    const unique = [...new Map(rests.map((rest) => [JSON.stringify(rest), rest])).values()];
    return withinSizeLimit(
      (unique.length === 1 ? { source: first.source, 'detail-type': first['detail-type'], ...unique[0] } : { source: first.source, 'detail-type': first['detail-type'], $or: unique }) as EventPattern,
    );
  });
}
