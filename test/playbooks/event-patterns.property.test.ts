import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { NaiveMatcher } from '../../src/engine/index.js';
import { IntakeError, readEvent, type Finding } from '../../src/intake/index.js';
import {
  automaticEventPatterns,
  compilePlaybooks,
  customActionEventPattern,
  eventPatternsForMatch,
  loadPlaybooks,
  type CompiledPlaybook,
  type EventPattern,
  type FactCondition,
} from '../../src/playbooks/index.js';
import { matchesAnyEventPattern, matchesEventPattern, operatorsIn, validateEventPattern, type ArrayMode } from '../support/event-pattern-matcher.js';
import { propertyTimeout, runs } from '../support/fast-check.js';
import { fixture, fixtureText } from '../support/fixtures.js';

/*
 * The EventBridge patterns compiled for a playbook decide which events ever
 * reach Riposte: a pattern narrower than the playbook's rule silently drops
 * findings the playbook should act on. The key property here is soundness:
 * whenever readEvent(event) yields a finding the rule matches, the raw event
 * matches one of the playbook's patterns (per test/support/event-pattern-
 * matcher.ts, a model of EventBridge's matching).
 *
 * The seed comes from FC_SEED (pinned in CI, fresh in each local run:
 * test/support/fast-check.ts). On failure the report gives the seed, the
 * shrunk counterexample and the command that replays it; the assertion
 * message carries the playbook, the event and the patterns.
 * FC_RUNS_SCALE=10 (npm run test:deep) explores further.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EVENTS_DIRECTORY = join(ROOT, 'test', 'fixtures', 'events');
const NOT_EVENTBRIDGE = new Set(['api-request.json', 'apigateway-api-request.json']);
const FIXTURES = readdirSync(EVENTS_DIRECTORY)
  .filter((name) => name.endsWith('.json') && !NOT_EVENTBRIDGE.has(name))
  .sort();

const { playbooks: LIBRARY, problems: LIBRARY_PROBLEMS } = await loadPlaybooks(join(ROOT, 'playbooks'));
const byId = (id: string): CompiledPlaybook => {
  const found = LIBRARY.find((compiled) => compiled.playbook.id === id);
  if (found === undefined) throw new Error(`no playbook ${id} in the default library`);
  return found;
};
const CIS = byId('cis-password-policy');
const EC2_ISOLATE = byId('ec2-compromise-isolate');
const LIBRARY_MATCHER = new NaiveMatcher(LIBRARY);

/** Amazon EventBridge quotas, "Event pattern size": 2,048 characters by default (adjustable, up to 4,096). */
const MAX_PATTERN_CHARACTERS = 2048;
const ALLOWED_OPERATORS = new Set(['exact', 'prefix', 'suffix', 'numeric', 'exists', 'anything-but', '$or']);

/*
 * Budgets, which FC_RUNS_SCALE multiplies. The library property needs its
 * thousands: the rarest case it must reach (a custom action on the
 * default-security-group finding) comes about once in 600 runs.
 */
const LIBRARY_RUNS = runs(6_000);
const GENERATED_RUNS = runs(1_000);
const SHAPE_RUNS = runs(250);
const TIMEOUT_MS = propertyTimeout(60_000);

// ---------------------------------------------------------------------------
// Soundness check
// ---------------------------------------------------------------------------

interface Miss {
  readonly playbook: string;
  readonly finding: string;
  readonly trigger: string;
  readonly reason: string;
}

interface Outcome {
  readonly misses: Miss[];
  /** (finding, playbook) pairs the rule matched: what made the check non-vacuous. */
  readonly matched: Array<{ playbook: string; trigger: string }>;
}

function findingsOf(event: unknown): readonly Finding[] {
  try {
    return readEvent(event).findings;
  } catch (error) {
    if (error instanceof IntakeError) return [];
    throw error;
  }
}

/**
 * For each finding of `event` a playbook's rule matches (NaiveMatcher, the
 * finding's trigger as intake set it): the raw event must match one of the
 * playbook's patterns, and a custom-action event its custom-action pattern —
 * under each array semantics in `modes` (they agree on single-finding
 * events; batches are reproduced separately below).
 */
async function check(event: unknown, matcher: NaiveMatcher, modes: readonly ArrayMode[] = ['flattened', 'consistent']): Promise<Outcome> {
  const misses: Miss[] = [];
  const matched: Outcome['matched'] = [];
  for (const finding of findingsOf(event)) {
    for (const { playbook: compiled } of await matcher.match(finding)) {
      const id = compiled.playbook.id;
      matched.push({ playbook: id, trigger: finding.trigger.kind });
      const describe = (reason: string): Miss => ({ playbook: id, finding: finding.id, trigger: finding.trigger.kind, reason });
      for (const arrays of modes) {
        if (!matchesAnyEventPattern(compiled.eventPatterns, event, { arrays })) misses.push(describe(`the event matches none of its patterns (${arrays} arrays)`));
        if (finding.trigger.kind === 'custom-action') {
          const action = compiled.playbook.triggers.customAction;
          if (action === undefined) misses.push(describe('matched a custom-action finding without a custom action'));
          else if (!matchesEventPattern(customActionEventPattern(action.id), event, { arrays }))
            misses.push(describe(`the event does not match the ${action.id} custom-action pattern (${arrays} arrays)`));
        }
      }
    }
  }
  return { misses, matched };
}

function explainMisses(misses: readonly Miss[], event: unknown, playbooks: readonly CompiledPlaybook[], match?: unknown): string {
  const patterns = Object.fromEntries(playbooks.filter((p) => misses.some((miss) => miss.playbook === p.playbook.id)).map((p) => [p.playbook.id, p.eventPatterns]));
  return JSON.stringify({ misses, ...(match === undefined ? {} : { match }), patterns, event }, null, 1);
}

// ---------------------------------------------------------------------------
// Event mutations: small, printable edits of the real fixtures
// ---------------------------------------------------------------------------

type Path = readonly (string | number)[];
type Edit = { readonly at: Path; readonly set: Json } | { readonly at: Path; readonly remove: true };
type Mutation = readonly Edit[];

function applyEdit(root: JsonObject, edit: Edit): void {
  let node: Json = root;
  for (const [index, part] of edit.at.slice(0, -1).entries()) {
    const container = node as Record<string | number, Json>;
    let next = container[part];
    if (next === null || next === undefined || typeof next !== 'object') {
      if ('remove' in edit) return;
      next = typeof edit.at[index + 1] === 'number' ? [] : {};
      container[part] = next;
    }
    node = next;
  }
  const last = edit.at[edit.at.length - 1] as string | number;
  const container = node as Record<string | number, Json>;
  if ('remove' in edit) delete container[last];
  else container[last] = structuredClone(edit.set);
}

/** The fixtures' texts, read once: the properties build tens of thousands of events from them. */
const FIXTURE_TEXTS: ReadonlyMap<string, string> = new Map(FIXTURES.map((name) => [name, fixtureText(name)]));

/** A fresh parsed copy of one of FIXTURES, as fixture() makes, without reading the file again. */
function freshFixture(name: string): JsonObject {
  const text = FIXTURE_TEXTS.get(name);
  if (text === undefined) throw new Error(`${name} is not one of the EventBridge fixtures`);
  return JSON.parse(text) as JsonObject;
}

function mutated(name: string, mutations: readonly Mutation[]): JsonObject {
  const event = freshFixture(name);
  for (const mutation of mutations) for (const edit of mutation) applyEdit(event, edit);
  return event;
}

const set = (at: Path, values: readonly Json[]): fc.Arbitrary<Mutation> => fc.constantFrom(...values).map((value) => [{ at, set: value }]);
const remove = (at: Path): fc.Arbitrary<Mutation> => fc.constant([{ at, remove: true as const }]);
const setOrRemove = (at: Path, values: readonly Json[]): fc.Arbitrary<Mutation> => fc.oneof({ weight: 3, arbitrary: set(at, values) }, { weight: 1, arbitrary: remove(at) });

const ACCOUNTS = ['111122223333', '444455556666', '123456789012', '999988887777'];
const LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const COMPLIANCE = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'];
const WORKFLOWS = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const CONTROL_IDS = ['IAM.7', 'IAM.11', 'IAM.15', 'IAM.17', 'EC2.2', 'EC2.13', 'EC2.14', 'EC2.53', 'S3.1', '1.9', '1.8', '4.1', '4.3', '5.2', '5.3'];
const ACTION_IDS = ['IsolateEc2', 'CisPasswordPolicy', 'EmptyDefaultSg', 'CloseAdminPorts', 'GenAction', 'OtherAction'];
const actionArn = (id: string): string => `arn:aws:securityhub:us-east-1:999988887777:action/custom/${id}`;

const PRODUCT_ARNS = [
  'arn:aws:securityhub:us-east-1::product/aws/securityhub',
  'arn:aws:securityhub:us-east-1::product/aws/guardduty',
  'arn:aws:securityhub:us-east-1::product/aws/inspector',
  'arn:aws:securityhub:us-east-1::product/aws/config',
  'arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty',
  'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
  'arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon',
];
const ASFF_TYPES: Json[] = [
  ['Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark'],
  ['Software and Configuration Checks/Industry and Regulatory Standards'],
  ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS'],
  ['TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce'],
  ['Effects/Resource Consumption/CryptoCurrency:EC2-BitcoinTool.B!DNS'],
  ['TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort'],
  ['Software and Configuration Checks/Vulnerabilities/CVE'],
  ['Software and Configuration Checks/AWS Security Best Practices', 'TTPs/Command and Control/Trojan:EC2-DNSDataExfiltration'],
  [],
];
const STANDARDS_CONTROL_ARNS = [
  'arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/1.2.0/1.9',
  'arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/1.2.0/4.1',
  'arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/1.4.0/5.3',
  'arn:aws:securityhub:us-east-1:111122223333:control/aws-foundational-security-best-practices/v/1.0.0/IAM.15',
  'arn:aws:securityhub:us-east-1:111122223333:control/aws-foundational-security-best-practices/v/1.0.0/EC2.2',
  'arn:aws:securityhub:us-east-1:111122223333:control/aws-foundational-security-best-practices/v/1.0.0/EC2.13',
  'arn:aws:securityhub:us-east-1:111122223333:control/pci-dss/v/3.2.1/PCI.IAM.5',
];
const STANDARDS_ARNS = [
  'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0',
  'arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0',
  'arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0',
];
const REQUIREMENTS: Json[] = [
  ['CIS AWS Foundations Benchmark v1.2.0/1.9'],
  ['CIS AWS Foundations 1.9'],
  ['CIS AWS Foundations Benchmark v1.4.0/1.8', 'CIS AWS Foundations Benchmark v3.0.0/1.8'],
  ['CIS AWS Foundations Benchmark v1.2.0/4.1', 'PCI DSS v3.2.1/1.2.1'],
  ['CIS AWS Foundations Benchmark v1.4.0/5.3'],
  ['CIS AWS Foundations Benchmark v3.0.0/5.4'],
  ['NIST.800-53.r5 AC-4'],
  [],
];
const ASSOCIATED_STANDARDS: Json[] = [
  [{ StandardsId: 'ruleset/cis-aws-foundations-benchmark/v/1.2.0' }],
  [{ StandardsId: 'standards/cis-aws-foundations-benchmark/v/1.4.0' }, { StandardsId: 'standards/aws-foundational-security-best-practices/v/1.0.0' }],
  [{ StandardsId: 'standards/aws-foundational-security-best-practices/v/1.0.0' }],
];
const SG_ARN = 'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0f1e2d3c4b5a69788';
const INSTANCE_ARN = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718';
const ASFF_RESOURCES: Json[] = [
  [{ Type: 'AwsAccount', Id: 'AWS::::Account:111122223333' }],
  [{ Type: 'AwsEc2SecurityGroup', Id: SG_ARN }],
  [{ Type: 'AwsEc2Instance', Id: INSTANCE_ARN }],
  [
    { Type: 'AwsAccount', Id: 'AWS::::Account:111122223333' },
    { Type: 'AwsEc2SecurityGroup', Id: SG_ARN },
  ],
  [{ Type: 'AwsIamRole', Id: 'arn:aws:iam::111122223333:role/web-prod-instance-role' }],
  [{ Type: 'Other', Id: 'acme-asset-7731' }],
];

function asffMutations(finding: Path): fc.Arbitrary<Mutation> {
  const at = (...parts: (string | number)[]): Path => [...finding, ...parts];
  return fc.oneof(
    setOrRemove(at('Severity', 'Label'), LABELS),
    setOrRemove(at('Severity', 'Normalized'), [0, 1, 39, 40, 69, 70, 89, 90, 100]),
    set(at('Types'), ASFF_TYPES),
    set(at('ProductArn'), PRODUCT_ARNS),
    remove(at('Compliance')),
    setOrRemove(at('Compliance', 'Status'), COMPLIANCE),
    setOrRemove(at('Compliance', 'SecurityControlId'), CONTROL_IDS),
    setOrRemove(at('Compliance', 'RelatedRequirements'), REQUIREMENTS),
    setOrRemove(at('Compliance', 'AssociatedStandards'), ASSOCIATED_STANDARDS),
    remove(at('ProductFields')),
    setOrRemove(at('ProductFields', 'ControlId'), CONTROL_IDS),
    setOrRemove(at('ProductFields', 'RuleId'), CONTROL_IDS),
    setOrRemove(at('ProductFields', 'StandardsControlArn'), STANDARDS_CONTROL_ARNS),
    setOrRemove(at('ProductFields', 'StandardsArn'), STANDARDS_ARNS),
    setOrRemove(at('ProductFields', 'StandardsGuideArn'), STANDARDS_ARNS),
    remove(at('Workflow')),
    set(at('Workflow', 'Status'), WORKFLOWS),
    setOrRemove(at('WorkflowState'), ['NEW', 'ASSIGNED', 'IN_PROGRESS', 'DEFERRED', 'RESOLVED']),
    setOrRemove(at('RecordState'), ['ACTIVE', 'ARCHIVED']),
    set(at('AwsAccountId'), ACCOUNTS),
    set(at('Resources'), ASFF_RESOURCES),
  );
}

/** Coherent starting points, so each library playbook's case is reached often and then mutated further. */
function asffScenarios(finding: Path): fc.Arbitrary<Mutation> {
  const at = (...parts: (string | number)[]): Path => [...finding, ...parts];
  const securityHub = (control: string, resources: Json): Mutation => [
    { at: at('ProductArn'), set: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' },
    { at: at('Compliance'), set: { Status: 'FAILED', SecurityControlId: control } },
    { at: at('Resources'), set: resources },
    { at: at('RecordState'), set: 'ACTIVE' },
  ];
  return fc.constantFrom<Mutation>(securityHub('EC2.2', ASFF_RESOURCES[1] as Json), securityHub('EC2.13', ASFF_RESOURCES[1] as Json), securityHub('IAM.15', ASFF_RESOURCES[0] as Json), [
    { at: at('ProductArn'), set: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' },
    { at: at('Types'), set: ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS'] },
    { at: at('Severity'), set: { Label: 'HIGH', Normalized: 70 } },
    { at: at('Resources'), set: ASFF_RESOURCES[2] as Json },
    { at: at('Compliance'), remove: true },
  ]);
}

/** Turns an Imported event into a custom-action one (or changes its action), so every ASFF shape reaches the custom-action branch. */
const asCustomAction: fc.Arbitrary<Mutation> = fc.tuple(fc.constantFrom(...ACTION_IDS), fc.option(fc.constantFrom(...ACTION_IDS), { nil: undefined })).map(([id, second]) => [
  { at: ['detail-type'], set: 'Security Hub Findings - Custom Action' },
  { at: ['resources'], set: second === undefined ? [actionArn(id)] : [actionArn(id), actionArn(second)] },
  { at: ['detail', 'actionName'], set: 'Custom action' },
]);

const GUARDDUTY_SEVERITY = fc.oneof(
  fc.constantFrom(0, 0.5, 1, 2.5, 3.9, 3.99, 4, 4.1, 5, 6.9, 6.99, 7, 7.1, 8, 8.9, 8.99, 9, 9.5, 10),
  fc.integer({ min: 0, max: 100 }).map((n) => n / 10),
  fc.integer({ min: 0, max: 10_000 }).map((n) => n / 1000),
);
const GUARDDUTY_TYPES = [
  'Backdoor:EC2/C&CActivity.B!DNS',
  'CryptoCurrency:EC2/BitcoinTool.B!DNS',
  'Trojan:EC2/DNSDataExfiltration',
  'UnauthorizedAccess:EC2/SSHBruteForce',
  'Impact:EC2/PortSweep',
  'Recon:EC2/PortProbeUnprotectedPort',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'Policy:S3/BucketBlockPublicAccessDisabled',
  'Backdoor:Lambda/C&CActivity.B',
];
const GUARDDUTY_RESOURCES: Json[] = [
  (fixture<JsonObject>('guardduty-ec2-backdoor.json').detail as JsonObject).resource as Json,
  (fixture<JsonObject>('guardduty-iam-accesskey.json').detail as JsonObject).resource as Json,
  { resourceType: 'S3Bucket', s3BucketDetails: [{ name: 'logs-bucket', arn: 'arn:aws:s3:::logs-bucket' }] },
  { resourceType: 'EKSCluster' },
  { resourceType: 'Instance' },
];
const guardDutyMutations: fc.Arbitrary<Mutation> = fc.oneof(
  GUARDDUTY_SEVERITY.map((severity): Mutation => [{ at: ['detail', 'severity'], set: severity }]),
  set(['detail', 'type'], GUARDDUTY_TYPES),
  set(['detail', 'accountId'], ACCOUNTS),
  setOrRemove(['detail', 'service', 'archived'], [true, false]),
  remove(['detail', 'service']),
  set(['detail', 'resource'], GUARDDUTY_RESOURCES),
);

const RULE_NAMES = [
  'iam-password-policy',
  'securityhub-iam-password-policy-1f9b2c7d',
  'restricted-ssh',
  'securityhub-restricted-ssh-5c8d2e41',
  'vpc-default-security-group-closed',
  'securityhub-vpc-default-security-group-closed-0a1b2c3d',
  'ec2-imdsv2-check',
  'iam-password-policy-strict',
  'securityhub-iam-password-policy',
];
const CONFIG_RESOURCES: ReadonlyArray<readonly [string, string]> = [
  ['AWS::::Account', '111122223333'],
  ['AWS::EC2::SecurityGroup', 'sg-0e1d2c3b4a5968778'],
  ['AWS::EC2::Instance', 'i-0a1b2c3d4e5f60718'],
  ['AWS::S3::Bucket', 'logs-bucket'],
];
const configMutations: fc.Arbitrary<Mutation> = fc.oneof(
  set(['detail', 'configRuleName'], RULE_NAMES),
  set(['detail', 'newEvaluationResult', 'complianceType'], ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA']),
  set(['detail', 'awsAccountId'], ACCOUNTS),
  fc.constantFrom(...CONFIG_RESOURCES).map(([type, id]): Mutation => [
    { at: ['detail', 'resourceType'], set: type },
    { at: ['detail', 'resourceId'], set: id },
  ]),
  remove(['detail', 'oldEvaluationResult']),
  remove(['detail', 'newEvaluationResult', 'annotation']),
  remove(['detail', 'configRuleARN']),
);

/** `productv2` product ARNs (what Security Hub writes in OCSF), or none. */
const OCSF_PRODUCT_UIDS = [
  'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
  'arn:aws:securityhub:us-east-1::productv2/aws/guardduty',
  'arn:aws:securityhub:us-east-1::productv2/aws/inspector',
  'arn:aws:securityhub:us-east-1::productv2/aws/config',
  'arn:aws:securityhub:us-east-1::productv2/crowdstrike/crowdstrike-falcon',
];
const OCSF_TYPES: Json[] = [
  ['Software and Configuration Checks/Industry and Regulatory Standards', 'Posture Management'],
  ['Backdoor:EC2/C&CActivity.B!DNS'],
  ['CryptoCurrency:EC2/BitcoinTool.B!DNS'],
  ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
  ['Software and Configuration Checks/Vulnerabilities/CVE', 'Vulnerabilities'],
  [],
];
const OCSF_ANALYTICS: Json[] = [
  ...RULE_NAMES.slice(0, 7).map((name) => ({ category: 'AWS::Config::ConfigRule', name, type: 'Rule', type_id: 1 })),
  { type: 'Rule', type_id: 1, uid: '6c026564701ee0fc8cb85156519b43b8' },
  { category: 'Other', name: 'iam-password-policy' },
];
const OCSF_RESOURCES: Json[] = [
  [{ type: 'AWS::::Account', uid: '111122223333', region: 'us-east-1', cloud_partition: 'aws' }],
  [{ type: 'AWS::EC2::SecurityGroup', uid: 'sg-0f1e2d3c4b5a69788', region: 'us-east-1' }],
  [{ type: 'AWS::EC2::Instance', uid: 'i-0a1b2c3d4e5f60718', uid_alt: INSTANCE_ARN, region: 'us-east-1' }],
  [{ type: 'AWS::IAM::Role', uid: 'arn:aws:iam::111122223333:role/web-prod-instance-role', region: 'global' }],
];

function ocsfMutations(finding: Path): fc.Arbitrary<Mutation> {
  const at = (...parts: (string | number)[]): Path => [...finding, ...parts];
  return fc.oneof(
    set(at('severity_id'), [0, 1, 2, 3, 4, 5, 6, 99]),
    remove(at('severity')),
    setOrRemove(at('status_id'), [1, 2, 3, 4, 5, 6, 99]),
    setOrRemove(at('activity_id'), [1, 2, 3]),
    remove(at('compliance')),
    setOrRemove(at('compliance', 'status_id'), [0, 1, 2, 3, 99]),
    setOrRemove(at('compliance', 'status'), ['Pass', 'Warning', 'Fail', 'Unknown']),
    setOrRemove(at('compliance', 'control'), [...CONTROL_IDS, '']),
    setOrRemove(at('compliance', 'requirements'), REQUIREMENTS),
    setOrRemove(at('metadata', 'product', 'uid'), OCSF_PRODUCT_UIDS),
    setOrRemove(at('metadata', 'product', 'name'), ['Security Hub', 'GuardDuty', 'Inspector', 'Config', 'Acme Scanner']),
    set(at('cloud', 'account', 'uid'), ACCOUNTS),
    set(at('finding_info', 'types'), OCSF_TYPES),
    setOrRemove(at('finding_info', 'analytic'), OCSF_ANALYTICS),
    set(at('resources'), OCSF_RESOURCES),
  );
}

const envelopeMutations: fc.Arbitrary<Mutation> = fc.oneof(set(['account'], ACCOUNTS), set(['region'], ['us-east-1', 'eu-west-1']));

/** What can change in each fixture, by the kind of event it is. */
function mutationsFor(name: string): fc.Arbitrary<Mutation> {
  const event = freshFixture(name);
  const detail = event.detail as JsonObject;
  const findingPaths = Array.isArray(detail.findings) ? detail.findings.map((_, index): Path => ['detail', 'findings', index]) : [];
  switch (`${event.source as string} ${event['detail-type'] as string}`) {
    case 'aws.securityhub Security Hub Findings - Imported':
    case 'aws.securityhub Security Hub Findings - Custom Action':
      return fc.oneof(
        { weight: 12, arbitrary: fc.oneof(...findingPaths.map(asffMutations)) },
        { weight: 2, arbitrary: fc.oneof(...findingPaths.map(asffScenarios)) },
        { weight: 2, arbitrary: asCustomAction },
        { weight: 1, arbitrary: envelopeMutations },
      );
    case 'aws.securityhub Findings Imported V2':
      return fc.oneof({ weight: 12, arbitrary: fc.oneof(...findingPaths.map(ocsfMutations)) }, { weight: 1, arbitrary: envelopeMutations });
    case 'aws.guardduty GuardDuty Finding':
      return fc.oneof({ weight: 12, arbitrary: guardDutyMutations }, { weight: 1, arbitrary: envelopeMutations });
    case 'aws.config Config Rules Compliance Change':
      return fc.oneof({ weight: 12, arbitrary: configMutations }, { weight: 1, arbitrary: envelopeMutations });
    default:
      throw new Error(`fixture ${name} is not an event Riposte reads`);
  }
}

/** Keeps one finding of a batch: Security Hub sends one finding per event (batches are checked on their own below). */
function single(event: JsonObject, keep: number): JsonObject {
  const detail = event.detail as JsonObject;
  if (Array.isArray(detail.findings) && detail.findings.length > 1) {
    detail.findings = [detail.findings[keep % detail.findings.length] as Json];
  }
  return event;
}

interface MutatedEvent {
  readonly name: string;
  readonly mutations: readonly Mutation[];
  readonly keep: number;
}
/** Each fixture's mutated events, built once (arbitraries are values): the chain below picks one per event instead of building it again. */
const MUTATED_EVENTS: ReadonlyMap<string, fc.Arbitrary<MutatedEvent>> = new Map(
  FIXTURES.map((name) => [name, fc.record({ name: fc.constant(name), mutations: fc.array(mutationsFor(name), { maxLength: 8 }), keep: fc.nat(1) })]),
);
const mutatedEvent: fc.Arbitrary<MutatedEvent> = fc.constantFrom(...FIXTURES).chain((name) => MUTATED_EVENTS.get(name) as fc.Arbitrary<MutatedEvent>);
const eventOf = ({ name, mutations, keep }: MutatedEvent): JsonObject => single(mutated(name, mutations), keep);

// ---------------------------------------------------------------------------
// Generated playbooks: match blocks over the fields the patterns narrow on
// ---------------------------------------------------------------------------

const oneOrMany = (values: readonly string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...values),
    fc.subarray([...values], { minLength: 1, maxLength: Math.min(3, values.length) }),
    fc.constantFrom(...values).map((value) => ({ equals: value })),
    fc.subarray([...values], { minLength: 1, maxLength: Math.min(3, values.length) }).map((list) => ({ in: list })),
  );
const prefixes = (values: readonly string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...values).map((value) => ({ prefix: value })),
    fc.subarray([...values], { minLength: 1, maxLength: Math.min(3, values.length) }).map((list) => ({ prefix: list })),
  );

const TYPE_PREFIXES = ['Backdoor:EC2/', 'CryptoCurrency:EC2/', 'UnauthorizedAccess:', 'Software and Configuration Checks/', 'TTPs/', 'Recon:EC2/', 'Posture'];
const FULL_TYPES = [
  'Backdoor:EC2/C&CActivity.B!DNS',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'Software and Configuration Checks/Industry and Regulatory Standards',
  'Software and Configuration Checks/Vulnerabilities/CVE',
  'TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS',
];
const RULE_PREFIXES = ['securityhub-', 'securityhub-iam-password-policy-', 'securityhub-restricted-ssh-', 'iam-', 'restricted-'];

const FIELD_CONDITIONS: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  source: oneOrMany(['securityhub', 'guardduty', 'config']),
  format: oneOrMany(['asff', 'ocsf', 'guardduty', 'config-rule']),
  'product.id': oneOrMany([
    'guardduty',
    'securityhub',
    'inspector',
    'config',
    '123456789012/default',
    'crowdstrike/crowdstrike-falcon',
    'unverified/guardduty',
    'unverified/security-hub',
    'unverified/acme-scanner',
  ]),
  'product.owner': oneOrMany(['aws', 'third-party']),
  'control.id': oneOrMany(CONTROL_IDS),
  'compliance.status': oneOrMany(COMPLIANCE),
  'severity.label': oneOrMany(LABELS),
  workflow: oneOrMany(WORKFLOWS),
  recordState: oneOrMany(['ACTIVE', 'ARCHIVED']),
  account: oneOrMany(ACCOUNTS),
  'resource.type': oneOrMany(['AwsEc2Instance', 'AwsEc2SecurityGroup', 'AwsAccount', 'AwsIamAccessKey', 'AwsS3Bucket']),
  types: fc.oneof(prefixes(TYPE_PREFIXES), oneOrMany(FULL_TYPES)),
  'configRule.name': fc.oneof(oneOrMany(RULE_NAMES), prefixes(RULE_PREFIXES)),
  // Fields and operators the patterns must NOT narrow on (they would be unsound if they did).
  'control.cisRules': oneOrMany(['1.2.0/1.9', '1.4.0/1.8', '3.0.0/1.8', '1.2.0/4.1', '1.4.0/5.3']),
  'severity.normalized': fc.constantFrom({ gte: 40 }, { lt: 70 }, { gt: 0 }, { lte: 90 }),
  region: fc.constantFrom('us-east-1', { not: 'eu-west-1' }),
};
const FIELD_NAMES = Object.keys(FIELD_CONDITIONS);

const blockOf = (minFields: number, maxFields: number): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .uniqueArray(fc.constantFrom(...FIELD_NAMES), { minLength: minFields, maxLength: maxFields })
    .chain((names) => fc.tuple(...names.map((name) => FIELD_CONDITIONS[name] as fc.Arbitrary<unknown>)).map((values) => Object.fromEntries(names.map((name, i) => [name, values[i]]))));

/** A field negated or tested for existence: never something a pattern may narrow on. */
const negations = fc.oneof(
  blockOf(1, 1).map((inner) => ({ not: inner })),
  fc.constantFrom('control.id', 'configRule.name', 'compliance.status').chain((name) => fc.boolean().map((exists) => ({ [name]: { exists } }))),
);

const anyOf = (minLength: number): fc.Arbitrary<Array<Record<string, unknown>>> => fc.array(blockOf(1, 2), { minLength, maxLength: 3 });

const matchBlock: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 4, arbitrary: blockOf(1, 4) },
  { weight: 3, arbitrary: fc.tuple(blockOf(0, 2), anyOf(2)).map(([base, any]) => ({ ...base, any })) },
  { weight: 1, arbitrary: fc.tuple(blockOf(1, 2), negations).map(([base, extra]) => ({ ...extra, ...base })) },
  // The any reached through an all; an any nested in an any branch; a one-branch any.
  { weight: 1, arbitrary: fc.tuple(blockOf(1, 2), anyOf(2)).map(([base, any]) => ({ all: [base, { any }] })) },
  { weight: 1, arbitrary: fc.tuple(anyOf(2), blockOf(1, 2)).map(([inner, other]) => ({ any: [{ any: inner }, other] })) },
  { weight: 1, arbitrary: fc.tuple(blockOf(0, 2), anyOf(1)).map(([base, any]) => ({ ...base, any: any.slice(0, 1) })) },
);

interface GeneratedPlaybook {
  readonly match: Record<string, unknown>;
  readonly customAction: boolean;
  /** Without the automatic trigger (then always with a custom action). */
  readonly manualOnly?: boolean;
}
const generatedPlaybook: fc.Arbitrary<GeneratedPlaybook> = fc.record({
  match: matchBlock,
  customAction: fc.boolean(),
  manualOnly: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

function compileGenerated({ match, customAction, manualOnly = false }: GeneratedPlaybook): CompiledPlaybook {
  const withAction = customAction || manualOnly;
  const document = {
    id: 'generated',
    title: 'Generated playbook',
    triggers: { automatic: !manualOnly, ...(withAction ? { customAction: { id: 'GenAction', name: 'Generated' } } : {}) },
    match,
    steps: [{ notify: {} }],
  };
  const [compiled] = compilePlaybooks([{ path: 'generated.yml', text: stringify(document) }]);
  return compiled as CompiledPlaybook;
}

// ---------------------------------------------------------------------------
// a. Soundness: never narrower than the rule
// ---------------------------------------------------------------------------

describe('soundness: every event whose finding a playbook matches is delivered by one of its patterns', () => {
  it('the default library compiles without problems', () => {
    expect(LIBRARY_PROBLEMS).toEqual([]);
    expect(LIBRARY.map((compiled) => compiled.playbook.id).sort()).toEqual(['cis-password-policy', 'ec2-compromise-isolate', 'empty-default-security-group', 'revoke-unrestricted-admin-ingress']);
  });

  it.each(FIXTURES)('the real fixture %s, unchanged (default library)', async (name) => {
    const event = fixture<JsonObject>(name);
    const { misses } = await check(event, LIBRARY_MATCHER);
    expect(misses, explainMisses(misses, event, LIBRARY)).toEqual([]);
  });

  it('the real fixtures match the playbooks they were written for, and are delivered to them', async () => {
    const matchedBy = async (name: string): Promise<string[]> => (await check(fixture(name), LIBRARY_MATCHER)).matched.map((m) => `${m.playbook}/${m.trigger}`);
    expect(await matchedBy('securityhub-imported-cis-password-policy.json')).toEqual(['cis-password-policy/automatic']);
    expect(await matchedBy('securityhub-v2-ocsf-compliance.json')).toEqual(['cis-password-policy/automatic']);
    expect(await matchedBy('config-compliance-password-policy.json')).toEqual(['cis-password-policy/automatic']);
    expect(await matchedBy('securityhub-imported-open-ssh.json')).toEqual(['revoke-unrestricted-admin-ingress/automatic']);
    expect(await matchedBy('guardduty-ec2-backdoor.json')).toEqual(['ec2-compromise-isolate/automatic']);
    expect(await matchedBy('securityhub-imported-guardduty-ec2.json')).toEqual(['ec2-compromise-isolate/automatic']);
    expect(await matchedBy('securityhub-v2-ocsf-detection.json')).toEqual(['ec2-compromise-isolate/automatic']);
    expect(await matchedBy('securityhub-custom-action.json')).toEqual(['ec2-compromise-isolate/custom-action']);
  });

  it(
    `mutated fixtures × the default library (${LIBRARY_RUNS} runs)`,
    async () => {
      const matchedCount = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(mutatedEvent, async (generated) => {
          const event = eventOf(generated);
          const { misses, matched } = await check(event, LIBRARY_MATCHER);
          for (const { playbook, trigger } of matched) matchedCount.set(`${playbook}/${trigger}`, (matchedCount.get(`${playbook}/${trigger}`) ?? 0) + 1);
          if (misses.length > 0) throw new Error(`narrower than the rule:\n${explainMisses(misses, event, LIBRARY)}`);
        }),
        { numRuns: LIBRARY_RUNS },
      );
      // Not vacuous: every playbook was matched, automatically and through its custom action.
      for (const compiled of LIBRARY) {
        expect(matchedCount.get(`${compiled.playbook.id}/automatic`) ?? 0, compiled.playbook.id).toBeGreaterThan(20);
        expect(matchedCount.get(`${compiled.playbook.id}/custom-action`) ?? 0, compiled.playbook.id).toBeGreaterThan(0);
      }
    },
    TIMEOUT_MS,
  );

  it(
    `generated playbooks × mutated fixtures (${GENERATED_RUNS} runs)`,
    async () => {
      let matched = 0;
      await fc.assert(
        fc.asyncProperty(generatedPlaybook, fc.array(mutatedEvent, { minLength: 1, maxLength: 3 }), async (spec, events) => {
          const compiled = compileGenerated(spec);
          const matcher = new NaiveMatcher([compiled]);
          for (const generated of events) {
            const event = eventOf(generated);
            const outcome = await check(event, matcher);
            matched += outcome.matched.length;
            if (outcome.misses.length > 0) throw new Error(`narrower than the rule:\n${explainMisses(outcome.misses, event, [compiled], spec.match)}`);
          }
        }),
        { numRuns: GENERATED_RUNS },
      );
      expect(matched).toBeGreaterThan(GENERATED_RUNS / 10);
    },
    TIMEOUT_MS,
  );

  /**
   * Deliberately narrowed copies of the patterns: the soundness property must
   * catch each one. The library's control-id branches sit beside broad
   * `control.cisRules` branches (which mask them), so a control-id-only
   * playbook joins the library here.
   */
  it.each([
    ['the severity labels narrowed to CRITICAL only', '"Label":["HIGH","CRITICAL"]', '"Label":["CRITICAL"]'],
    ['the GuardDuty HIGH band starting at 7.5', '[">=",7,"<=",9]', '[">=",7.5,"<=",9]'],
    ['the ProductFields control-id branches broken', '"ProductFields":', '"ProductFieldz":'],
    ['the Config rule-name prefix made exact', '{"prefix":"securityhub-iam-password-policy-"}', '"securityhub-iam-password-policy-"'],
    ['the custom-action suffix made to need a slash', ':action/custom/', '/action/custom/'],
  ])(
    'the property has teeth: it catches %s',
    async (_name, from, to) => {
      const playbooks = [...LIBRARY, compileGenerated({ match: { 'control.id': ['IAM.7', 'IAM.15', 'EC2.2', 'EC2.13'] }, customAction: false })];
      const mutants = playbooks.map((compiled) => ({ ...compiled, eventPatterns: JSON.parse(JSON.stringify(compiled.eventPatterns).replaceAll(from, to)) as EventPattern[] }));
      expect(JSON.stringify(mutants.map((m) => m.eventPatterns))).not.toBe(JSON.stringify(playbooks.map((c) => c.eventPatterns)));
      const matcher = new NaiveMatcher(mutants);
      const result = await fc.check(
        fc.asyncProperty(mutatedEvent, async (generated) => (await check(eventOf(generated), matcher)).misses.length === 0),
        { numRuns: 3_000 },
      );
      expect(result.failed).toBe(true);
    },
    TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// Known ways the patterns are narrower than the rule (src bugs, reproduced)
// ---------------------------------------------------------------------------

describe('once narrower than the rule, now fixed (regressions)', () => {
  const playbookWith = (match: Record<string, unknown>): CompiledPlaybook => compileGenerated({ match, customAction: false });
  const missesFor = async (compiled: CompiledPlaybook, event: unknown, modes: readonly ArrayMode[] = ['flattened']): Promise<Miss[]> =>
    (await check(event, new NaiveMatcher([compiled]), modes)).misses;

  /**
   * `{exists: false}` inside `detail.findings` (Severity.Label, Workflow.Status,
   * RecordState, metadata.product.uid) fails as soon as ANY finding of the
   * batch carries the field — in Event Ruler's array-consistent matching too,
   * whenever no field sorted before it has already picked the element.
   */
  const batch = (): JsonObject => {
    const event = fixture<JsonObject>('securityhub-imported-open-ssh.json');
    const findings = (event.detail as JsonObject).findings as JsonObject[];
    const first = findings[0] as JsonObject;
    const second = structuredClone(first);
    (second.Severity as JsonObject) = { Normalized: 70 }; // HIGH, with no Label
    second.Id = `${first.Id as string}-2`;
    (first.Severity as JsonObject) = { Label: 'LOW', Normalized: 1 };
    findings.push(second);
    return event;
  };

  it('(control) the batch is read as two findings, the second HIGH by its normalized score', () => {
    const findings = readEvent(batch()).findings;
    expect(findings.map((finding) => finding.severity.label)).toEqual(['LOW', 'HIGH']);
  });

  it('a two-finding ASFF event whose second finding (no Severity.Label) is HIGH: `severity.label: HIGH` (flattened matching)', async () => {
    const compiled = playbookWith({ 'severity.label': 'HIGH' });
    expect(await missesFor(compiled, batch())).toEqual([]);
  });

  it('the same event under Event Ruler’s array-consistent matching', async () => {
    const compiled = playbookWith({ 'severity.label': 'HIGH' });
    expect(await missesFor(compiled, batch(), ['consistent'])).toEqual([]);
  });

  it('(control) with a field sorted before Severity.Label (Compliance.Status) the array-consistent match picks the right finding', async () => {
    const compiled = playbookWith({ 'severity.label': 'HIGH', 'compliance.status': 'FAILED' });
    expect(await missesFor(compiled, batch(), ['consistent'])).toEqual([]);
  });

  /** OCSF product.id is read from any `…/<company>/<product>` ARN (or the name), the pattern only accepts `productv2/…` or no uid. */
  const ocsfWithUid = (uid: string): JsonObject => {
    const event = fixture<JsonObject>('securityhub-v2-ocsf-detection.json');
    const finding = ((event.detail as JsonObject).findings as JsonObject[])[0] as JsonObject;
    ((finding.metadata as JsonObject).product as JsonObject).uid = uid;
    return event;
  };
  const V1_PRODUCT_ARN = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';

  it('(control) intake reads product.id guardduty from a `product/` ARN, and `product.id: guardduty` matches', async () => {
    const [finding] = readEvent(ocsfWithUid(V1_PRODUCT_ARN)).findings;
    expect(finding?.product.id).toBe('guardduty');
    const matches = await new NaiveMatcher([playbookWith({ 'product.id': 'guardduty' })]).match(finding as Finding);
    expect(matches).toHaveLength(1);
  });

  // Issue 11, case 5: a name proves nothing. An empty uid used to make the
  // finding GuardDuty's (by its name); it is now an unverified third party's.
  it('(control) an empty uid is no longer GuardDuty’s: `product.id: guardduty` does not match it', async () => {
    const [finding] = readEvent(ocsfWithUid('')).findings;
    expect(finding?.product).toMatchObject({ owner: 'third-party' });
    expect(finding?.product.id).not.toBe('guardduty');
    expect(await new NaiveMatcher([playbookWith({ 'product.id': 'guardduty' })]).match(finding as Finding)).toEqual([]);
  });

  it('an OCSF finding whose metadata.product.uid is a `product/` (not `productv2/`) ARN: `product.id: guardduty`', async () => {
    expect(await missesFor(playbookWith({ 'product.id': 'guardduty' }), ocsfWithUid(V1_PRODUCT_ARN))).toEqual([]);
  });

  it('an OCSF finding whose metadata.product.uid is empty: `product.id: guardduty`', async () => {
    expect(await missesFor(playbookWith({ 'product.id': 'guardduty' }), ocsfWithUid(''))).toEqual([]);
  });

  /** GuardDuty bands end at `< 1`, `< 4`, `< 7`, `< 9`; EventBridge compares to 6 decimals, so 6.9999996 counts as 7. */
  const guardDutyScored = (severity: number): JsonObject => {
    const event = fixture<JsonObject>('guardduty-ec2-backdoor.json');
    (event.detail as JsonObject).severity = severity;
    return event;
  };

  it('(control) intake labels 6.9999996 MEDIUM and 3.9999996 LOW', () => {
    expect(readEvent(guardDutyScored(6.9999996)).findings[0]?.severity.label).toBe('MEDIUM');
    expect(readEvent(guardDutyScored(3.9999996)).findings[0]?.severity.label).toBe('LOW');
  });

  it('a GuardDuty severity within 5e-7 below a band edge (6.9999996, MEDIUM): `severity.label: MEDIUM`', async () => {
    expect(await missesFor(playbookWith({ 'severity.label': 'MEDIUM' }), guardDutyScored(6.9999996))).toEqual([]);
  });

  it('a GuardDuty severity within 5e-7 below a band edge (3.9999996, LOW): `severity.label: LOW`', async () => {
    expect(await missesFor(playbookWith({ 'severity.label': 'LOW' }), guardDutyScored(3.9999996))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// b. Narrowness: the patterns are not trivially broad
// ---------------------------------------------------------------------------

describe('narrowness', () => {
  const GUARDDUTY_FIXTURES = [
    'guardduty-ec2-backdoor.json',
    'guardduty-govcloud-low.json',
    'guardduty-iam-accesskey.json',
    'securityhub-imported-guardduty-ec2.json',
    'securityhub-v2-ocsf-detection.json',
    'securityhub-custom-action.json',
  ];

  it.each(GUARDDUTY_FIXTURES)('the CIS password-policy patterns do not match the GuardDuty fixture %s', (name) => {
    expect(matchesAnyEventPattern(CIS.eventPatterns, fixture(name))).toBe(false);
  });

  /*
   * The CIS playbook's `control.cisRules` branch is not narrowed for Security
   * Hub findings (ASFF or OCSF): its patterns keep only `Compliance.Status
   * FAILED` and the record state, so every failed control finding is
   * delivered to Riposte for this playbook, the open-SSH one included.
   * Sound, but as broad as "all failed controls".
   */
  it('the CIS password-policy patterns do not match the open-SSH fixture (EC2.13)', () => {
    expect(matchesAnyEventPattern(CIS.eventPatterns, fixture('securityhub-imported-open-ssh.json'))).toBe(false);
  });

  it('(control) what makes the open-SSH fixture match the CIS patterns is the unnarrowed control.cisRules branch', () => {
    const withoutCisBranch = compileGenerated({
      match: {
        'compliance.status': 'FAILED',
        recordState: 'ACTIVE',
        any: [{ 'control.id': ['IAM.7', 'IAM.11', 'IAM.15'] }, { 'configRule.name': 'iam-password-policy' }],
      },
      customAction: false,
    });
    expect(matchesAnyEventPattern(withoutCisBranch.eventPatterns, fixture('securityhub-imported-open-ssh.json'))).toBe(false);
    expect(matchesAnyEventPattern(withoutCisBranch.eventPatterns, fixture('securityhub-imported-cis-password-policy.json'))).toBe(true);
  });

  it.each(['securityhub-imported-cis-password-policy.json', 'securityhub-v2-ocsf-compliance.json', 'config-compliance-password-policy.json', 'config-compliance-restricted-ssh.json'])(
    'the GuardDuty EC2 isolation patterns do not match %s',
    (name) => {
      expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, fixture(name))).toBe(false);
    },
  );

  it.each([2.5, 1, 3.9, 3.99, 4, 6.9, 6.99])('the GuardDuty EC2 isolation patterns do not match a backdoor finding of severity %s (LOW/MEDIUM)', (severity) => {
    const event = fixture<JsonObject>('guardduty-ec2-backdoor.json');
    (event.detail as JsonObject).severity = severity;
    expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, event)).toBe(false);
  });

  it.each([7, 8, 8.9, 8.99, 9, 10])('…and do match it at severity %s (HIGH/CRITICAL)', (severity) => {
    const event = fixture<JsonObject>('guardduty-ec2-backdoor.json');
    (event.detail as JsonObject).severity = severity;
    expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, event)).toBe(true);
  });

  it('the GuardDuty EC2 isolation patterns do not match the low GovCloud finding (severity 2.5), nor an archived one', () => {
    expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, fixture('guardduty-govcloud-low.json'))).toBe(false);
    const archived = fixture<JsonObject>('guardduty-ec2-backdoor.json');
    ((archived.detail as JsonObject).service as JsonObject).archived = true;
    expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, archived)).toBe(false);
  });

  it.each(['ec2-imdsv2-check', 'iam-password-policy-strict', 'securityhub-iam-password-policy', 'restricted-ssh', 'securityhub-restricted-ssh-5c8d2e41'])(
    'a Config rule event for the unrelated rule %s does not match the CIS Config pattern',
    (ruleName) => {
      const event = fixture<JsonObject>('config-compliance-password-policy.json');
      (event.detail as JsonObject).configRuleName = ruleName;
      const configPattern = CIS.eventPatterns.find((pattern) => (pattern.source as readonly string[])[0] === 'aws.config');
      expect(configPattern).toBeDefined();
      expect(matchesEventPattern(configPattern, event)).toBe(false);
      expect(matchesAnyEventPattern(CIS.eventPatterns, event)).toBe(false);
    },
  );

  it('…while the CIS Config pattern matches its own rule names, and not a compliant evaluation', () => {
    const event = fixture<JsonObject>('config-compliance-password-policy.json');
    expect(matchesAnyEventPattern(CIS.eventPatterns, event)).toBe(true);
    (event.detail as JsonObject).configRuleName = 'securityhub-iam-password-policy-0a1b2c3d';
    expect(matchesAnyEventPattern(CIS.eventPatterns, event)).toBe(true);
    ((event.detail as JsonObject).newEvaluationResult as JsonObject).complianceType = 'COMPLIANT';
    expect(matchesAnyEventPattern(CIS.eventPatterns, event)).toBe(false);
  });

  it('the custom-action pattern matches only its own action id', () => {
    const withAction = (id: string, resources?: string[]): JsonObject => {
      const event = fixture<JsonObject>('securityhub-custom-action.json');
      event.resources = resources ?? [actionArn(id)];
      return event;
    };
    const pattern = customActionEventPattern('IsolateEc2');
    expect(matchesEventPattern(pattern, withAction('IsolateEc2'))).toBe(true);
    expect(matchesEventPattern(pattern, withAction('', ['arn:aws-us-gov:securityhub:us-gov-west-1:444455556666:action/custom/IsolateEc2']))).toBe(true);
    for (const other of ['IsolateEc22', 'XIsolateEc2', 'Isolate', 'isolateec2', 'CisPasswordPolicy', 'EmptyDefaultSg', 'CloseAdminPorts']) {
      expect(matchesEventPattern(pattern, withAction(other)), other).toBe(false);
    }
    expect(matchesEventPattern(pattern, withAction('', []))).toBe(false);
    // Each library playbook's custom-action pattern accepts its own action and no other playbook's.
    for (const compiled of LIBRARY) {
      const own = compiled.playbook.triggers.customAction?.id as string;
      for (const other of LIBRARY) {
        const id = other.playbook.triggers.customAction?.id as string;
        expect(matchesEventPattern(customActionEventPattern(own), withAction(id)), `${own} vs ${id}`).toBe(own === id);
      }
    }
  });

  it('a custom-action event is delivered by no automatic pattern, and an Imported event by no custom-action pattern', () => {
    const automatic = LIBRARY.flatMap((compiled) => compiled.eventPatterns).filter((pattern) => !(pattern['detail-type'] as readonly string[]).includes('Security Hub Findings - Custom Action'));
    expect(matchesAnyEventPattern(automatic, fixture('securityhub-custom-action.json'))).toBe(false);
    const custom = LIBRARY.map((compiled) => customActionEventPattern(compiled.playbook.triggers.customAction?.id as string));
    for (const name of FIXTURES.filter((fixtureName) => fixtureName !== 'securityhub-custom-action.json')) {
      expect(matchesAnyEventPattern(custom, fixture(name)), name).toBe(false);
    }
  });

  it('each library playbook’s patterns deliver none of the ASFF, GuardDuty and Config fixtures meant for other playbooks', () => {
    const cisFixtures = ['securityhub-imported-cis-password-policy.json', 'config-compliance-password-policy.json'];
    const guardDutyFixtures = ['guardduty-ec2-backdoor.json', 'securityhub-imported-guardduty-ec2.json', 'securityhub-v2-ocsf-detection.json'];
    const sshFixtures = ['securityhub-imported-open-ssh.json', 'config-compliance-restricted-ssh.json'];
    for (const name of [...cisFixtures, ...sshFixtures, 'securityhub-v2-ocsf-compliance.json']) {
      expect(matchesAnyEventPattern(EC2_ISOLATE.eventPatterns, fixture(name)), name).toBe(false);
    }
    for (const name of [...cisFixtures, ...guardDutyFixtures]) {
      expect(matchesAnyEventPattern(byId('revoke-unrestricted-admin-ingress').eventPatterns, fixture(name)), name).toBe(false);
      expect(matchesAnyEventPattern(byId('empty-default-security-group').eventPatterns, fixture(name)), name).toBe(false);
    }
    for (const name of ['config-compliance-restricted-ssh.json', ...guardDutyFixtures]) {
      expect(matchesAnyEventPattern(CIS.eventPatterns, fixture(name)), name).toBe(false);
    }
  });

  /*
   * Same cause for OCSF: the `control.cisRules` branch keeps only
   * `compliance.status_id 3`, and OCSF resource types are not narrowed, so the
   * security-group playbooks' V2 patterns deliver every failed control finding
   * — the IAM.15 password-policy one included.
   */
  it('the security-group playbooks’ patterns do not match the OCSF IAM.15 compliance fixture', () => {
    const event = fixture('securityhub-v2-ocsf-compliance.json');
    expect(matchesAnyEventPattern(byId('revoke-unrestricted-admin-ingress').eventPatterns, event)).toBe(false);
    expect(matchesAnyEventPattern(byId('empty-default-security-group').eventPatterns, event)).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// c. Shape: what EventBridge accepts
// ---------------------------------------------------------------------------

function expectWellFormed(pattern: EventPattern, label: string, { size = true } = {}): void {
  expect(() => validateEventPattern(pattern), label).not.toThrow();
  expect(Array.isArray(pattern.source) && pattern.source.length > 0, `${label}: source`).toBe(true);
  expect(Array.isArray(pattern['detail-type']) && pattern['detail-type'].length > 0, `${label}: detail-type`).toBe(true);
  for (const operator of operatorsIn(pattern)) expect(ALLOWED_OPERATORS.has(operator), `${label}: operator ${operator}`).toBe(true);
  if (size) expect(JSON.stringify(pattern).length, `${label}: size`).toBeLessThanOrEqual(MAX_PATTERN_CHARACTERS);
}

describe('shape', () => {
  it('every library pattern has source and detail-type, uses only exact/prefix/suffix/numeric/exists/anything-but/$or, and fits in 2,048 characters', () => {
    for (const compiled of LIBRARY) {
      expect(compiled.eventPatterns.length).toBeGreaterThan(0);
      compiled.eventPatterns.forEach((pattern, index) => expectWellFormed(pattern, `${compiled.playbook.id}[${index}]`));
    }
  });

  it('library patterns deliver only event kinds Riposte reads', () => {
    const kinds = new Set(
      LIBRARY.flatMap((compiled) => compiled.eventPatterns.flatMap((pattern) => (pattern['detail-type'] as string[]).map((type) => `${(pattern.source as string[]).join()} ${type}`))),
    );
    expect([...kinds].sort()).toEqual([
      'aws.config Config Rules Compliance Change',
      'aws.guardduty GuardDuty Finding',
      'aws.securityhub Findings Imported V2',
      'aws.securityhub Security Hub Findings - Custom Action',
      'aws.securityhub Security Hub Findings - Imported',
    ]);
  });

  it(
    `generated playbooks’ patterns have source and detail-type and use only the allowed operators (${SHAPE_RUNS} runs)`,
    () => {
      let largest = 0;
      fc.assert(
        fc.property(generatedPlaybook, (spec) => {
          const compiled = compileGenerated(spec);
          compiled.eventPatterns.forEach((pattern, index) => {
            largest = Math.max(largest, JSON.stringify(pattern).length);
            expectWellFormed(pattern, `generated[${index}] for ${JSON.stringify(spec.match)}`);
          });
        }),
        { numRuns: SHAPE_RUNS },
      );
      expect(largest).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  /*
   * The ASFF pattern nests alternatives inside one another, so it can grow
   * past EventBridge's 2,048-character quota; the compiler then broadens it
   * (without its alternatives, or to source and detail-type) — never narrower.
   */
  it('compiling the CIS playbook with `workflow: NEW` and `severity.label: [MEDIUM, HIGH, CRITICAL]` keeps every pattern within 2,048 characters', () => {
    const compiled = compileGenerated({
      match: {
        'compliance.status': 'FAILED',
        recordState: 'ACTIVE',
        workflow: 'NEW',
        'severity.label': ['MEDIUM', 'HIGH', 'CRITICAL'],
        any: [
          { 'control.id': ['IAM.7', 'IAM.11', 'IAM.12', 'IAM.13', 'IAM.14', 'IAM.15', 'IAM.16', 'IAM.17'] },
          { 'control.cisRules': ['1.2.0/1.5', '1.4.0/1.8'] },
          { 'configRule.name': 'iam-password-policy' },
          { 'configRule.name': { prefix: 'securityhub-iam-password-policy-' } },
        ],
      },
      customAction: false,
    });
    for (const pattern of compiled.eventPatterns) expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(MAX_PATTERN_CHARACTERS);
  });
});

// ---------------------------------------------------------------------------
// The pattern functions, by example
// ---------------------------------------------------------------------------

const fact = (name: string, operator: string, value: unknown): FactCondition => ({ fact: name, operator, value });
const kindsOf = (patterns: readonly EventPattern[]): string[] => patterns.map((pattern) => String((pattern['detail-type'] as string[])[0]));

describe('automaticEventPatterns', () => {
  it('with nothing to narrow on: one bare pattern per event kind', () => {
    const patterns = automaticEventPatterns([]);
    expect(kindsOf(patterns)).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2', 'GuardDuty Finding', 'Config Rules Compliance Change']);
    for (const pattern of patterns) expect(Object.keys(pattern).sort()).toEqual(['detail-type', 'source']);
  });

  it('source and format choose the event kinds; api findings come from no event', () => {
    expect(kindsOf(automaticEventPatterns([fact('source', 'equal', 'guardduty')]))).toEqual(['GuardDuty Finding']);
    expect(kindsOf(automaticEventPatterns([fact('source', 'in', ['config', 'securityhub'])]))).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2', 'Config Rules Compliance Change']);
    expect(kindsOf(automaticEventPatterns([fact('format', 'equal', 'ocsf')]))).toEqual(['Findings Imported V2']);
    expect(automaticEventPatterns([fact('source', 'equal', 'api')])).toEqual([]);
  });

  it('control ids and Config rule names rule out the kinds that cannot carry them', () => {
    expect(kindsOf(automaticEventPatterns([fact('control.id', 'equal', 'IAM.15')]))).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2']);
    expect(kindsOf(automaticEventPatterns([fact('control.cisRules', 'containsAny', ['1.2.0/1.9'])]))).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2']);
    expect(kindsOf(automaticEventPatterns([fact('configRule.name', 'equal', 'restricted-ssh')]))).toEqual(['Findings Imported V2', 'Config Rules Compliance Change']);
    expect(kindsOf(automaticEventPatterns([fact('compliance.status', 'equal', 'FAILED')]))).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2', 'Config Rules Compliance Change']);
  });

  it('GuardDuty severity labels become numeric bands on the 1.0–10.0 score', () => {
    const [pattern] = automaticEventPatterns([fact('source', 'equal', 'guardduty'), fact('severity.label', 'in', ['LOW', 'CRITICAL'])]);
    expect(pattern?.detail).toEqual({ severity: [{ numeric: ['>=', 1, '<=', 4] }, { numeric: ['>=', 9] }] });
  });

  it('ASFF types are not narrowed when the product may be GuardDuty (Riposte adds GuardDuty’s own type), and are otherwise', () => {
    const guardduty = automaticEventPatterns([fact('format', 'equal', 'asff'), fact('product.id', 'equal', 'guardduty'), fact('types', 'prefix', ['Backdoor:EC2/'])]);
    expect(JSON.stringify(guardduty)).not.toContain('Types');
    const inspector = automaticEventPatterns([fact('format', 'equal', 'asff'), fact('product.id', 'equal', 'inspector'), fact('types', 'prefix', ['Software'])]);
    expect(inspector[0]?.detail).toMatchObject({ findings: { Types: [{ prefix: 'Software' }] } });
  });

  it('negations and existence tests never narrow', () => {
    expect(automaticEventPatterns([fact('control.id', 'exists', true), fact('account', 'notEqual', '111122223333')])).toEqual(automaticEventPatterns([]));
  });
});

describe('eventPatternsForMatch', () => {
  it('follows a top-level any branch by branch, merged per event kind with $or', () => {
    const patterns = eventPatternsForMatch({
      all: [fact('compliance.status', 'equal', 'FAILED'), { any: [fact('control.id', 'equal', 'IAM.15'), fact('configRule.name', 'equal', 'iam-password-policy')] }],
    });
    expect(kindsOf(patterns)).toEqual(['Security Hub Findings - Imported', 'Findings Imported V2', 'Config Rules Compliance Change']);
    const ocsf = patterns[1] as EventPattern;
    expect(ocsf.$or).toHaveLength(2);
  });

  it('a branch with nothing to narrow on makes its kind’s pattern bare', () => {
    const patterns = eventPatternsForMatch({ any: [fact('control.id', 'equal', 'IAM.15'), fact('severity.normalized', 'greaterThan', 50)] });
    for (const pattern of patterns) expect(Object.keys(pattern).sort()).toEqual(['detail-type', 'source']);
  });

  it('without a top-level any it is automaticEventPatterns of the necessary conditions', () => {
    const condition = { all: [fact('source', 'equal', 'config'), fact('configRule.name', 'prefix', ['securityhub-'])] };
    expect(eventPatternsForMatch(condition)).toEqual(automaticEventPatterns(condition.all));
  });
});

describe('customActionEventPattern', () => {
  it('names the custom action by the end of its ARN', () => {
    expect(customActionEventPattern('IsolateEc2')).toEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Custom Action'],
      resources: [{ suffix: ':action/custom/IsolateEc2' }],
    });
  });
});
