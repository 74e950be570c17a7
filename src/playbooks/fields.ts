import { Partition } from '../aws-names.js';
import { ComplianceStatus, FindingFormat, FindingSource, RecordState, SeverityLabel, WorkflowStatus, type Finding, type ProductOwner } from '../intake/index.js';

/**
 * `string[]` fields hold several values (a finding's types, its resources'
 * types): equality on them means "contains", a list means "contains any of".
 */
export type FieldType = 'string' | 'number' | 'string[]';

export interface FieldSpec {
  readonly type: FieldType;
  /** The only values the field can take, where it is an enumeration. */
  readonly values?: readonly string[];
  readonly description: string;
  /** Set by the trigger, not matchable in `match` (bind with `triggers:` instead). */
  readonly internal?: boolean;
  readonly read: (finding: Finding) => unknown;
}

const values = <T extends Record<string, string>>(constants: T): readonly string[] => Object.values(constants);

/** Who intake proved made a finding (`ProductRef.owner`); listed here because the type has no runtime constant. */
export const PRODUCT_OWNERS = ['aws', 'riposte', 'third-party'] as const satisfies readonly ProductOwner[];

/**
 * The facts a playbook can match on, each read from a `Finding`. The names
 * are what playbooks write in `match` and what the compiled json-rules-engine
 * conditions name as `fact`.
 */
export const FIELDS: Readonly<Record<string, FieldSpec>> = Object.freeze({
  source: { type: 'string', values: values(FindingSource), description: 'Channel the finding arrived through', read: (f) => f.source },
  format: { type: 'string', values: values(FindingFormat), description: 'Shape of the original finding', read: (f) => f.format },
  'product.id': { type: 'string', description: 'Product slug: guardduty, securityhub, inspector, config, macie, <company>/<product>…', read: (f) => f.product.id },
  'product.owner': {
    type: 'string',
    values: PRODUCT_OWNERS,
    description: 'Who is proven to have made the finding: aws (an AWS service, by its product ARN or event source), riposte, or third-party (partners, an account’s own default product)',
    read: (f) => f.product.owner,
  },
  'product.name': { type: 'string', description: 'Product name as the product sends it', read: (f) => f.product.name },
  id: { type: 'string', description: 'Finding id', read: (f) => f.id },
  title: { type: 'string', description: 'Finding title', read: (f) => f.title },
  types: { type: 'string[]', description: 'Finding types (ASFF paths; GuardDuty types such as Backdoor:EC2/…)', read: (f) => f.types },
  'severity.label': { type: 'string', values: values(SeverityLabel), description: 'Severity label', read: (f) => f.severity.label },
  'severity.normalized': { type: 'number', description: 'Severity, 0–100', read: (f) => f.severity.normalized },
  'control.id': { type: 'string', description: 'Security Hub control id (IAM.15) or the standard’s own', read: (f) => f.control?.id },
  'control.standards': { type: 'string[]', description: 'Standards of the control (cis-aws-foundations-benchmark/v/1.4.0…)', read: (f) => f.control?.standards },
  'control.cisRules': { type: 'string[]', description: 'Version-qualified CIS rules: 1.2.0/1.9, 1.4.0/1.8…', read: (f) => f.control?.cisRules },
  'configRule.name': { type: 'string', description: 'AWS Config rule name', read: (f) => f.configRule?.name },
  'compliance.status': { type: 'string', values: values(ComplianceStatus), description: 'Compliance status', read: (f) => f.compliance?.status },
  workflow: { type: 'string', values: values(WorkflowStatus), description: 'Workflow status', read: (f) => f.workflow },
  recordState: { type: 'string', values: values(RecordState), description: 'Record state', read: (f) => f.recordState },
  account: { type: 'string', description: 'Member account id the finding is about', read: (f) => f.account },
  region: { type: 'string', description: 'Region', read: (f) => f.region },
  partition: { type: 'string', values: values(Partition), description: 'Partition', read: (f) => f.partition },
  'resource.type': {
    type: 'string[]',
    description: 'Types of the affected resources (AwsEc2Instance, AwsAccount…)',
    read: (f) => f.resources.map((resource) => resource.type),
  },
  'resource.id': { type: 'string[]', description: 'Ids of the affected resources', read: (f) => f.resources.map((resource) => resource.id) },
  'note.updatedBy': { type: 'string', description: 'Author of the latest note', read: (f) => f.note?.updatedBy },
  'trigger.kind': {
    type: 'string',
    values: ['automatic', 'custom-action', 'api'],
    description: 'How the run was asked for',
    internal: true,
    read: (f) => f.trigger.kind,
  },
  'trigger.actionId': {
    type: 'string',
    description: 'Security Hub custom action id',
    internal: true,
    read: (f) => (f.trigger.kind === 'custom-action' ? f.trigger.actionId : undefined),
  },
  'trigger.playbook': {
    type: 'string',
    description: 'Playbook an API request asked for',
    internal: true,
    read: (f) => (f.trigger.kind === 'api' ? f.trigger.playbook : undefined),
  },
} satisfies Record<string, FieldSpec>);

/**
 * The same fields by name, for look-ups of names a playbook wrote: a `Map`
 * never answers `toString`, `constructor` or `__proto__` from
 * `Object.prototype`, as indexing the object above would.
 */
export const FIELD_SPECS: ReadonlyMap<string, FieldSpec> = new Map(Object.entries(FIELDS));

/** The field a playbook names, or `undefined` for any other name (`constructor`, `__proto__` included). */
export const fieldSpec = (name: string): FieldSpec | undefined => FIELD_SPECS.get(name);

export const FIELD_NAMES: readonly string[] = [...FIELD_SPECS.keys()];
export const MATCHABLE_FIELD_NAMES: readonly string[] = FIELD_NAMES.filter((name) => fieldSpec(name)?.internal !== true);

/**
 * The facts of a finding, as json-rules-engine runtime facts; only `names`
 * when given. A null-prototype object: a fact named after an
 * `Object.prototype` member is a fact like any other, never the prototype's.
 */
export function factsOf(finding: Finding, names: readonly string[] = FIELD_NAMES): Record<string, unknown> {
  const facts = Object.create(null) as Record<string, unknown>;
  for (const name of names) {
    const spec = fieldSpec(name);
    if (spec !== undefined) facts[name] = spec.read(finding);
  }
  return facts;
}
