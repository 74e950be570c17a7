import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { stringify } from 'yaml';

import type { Finding, Resource, Trigger } from '../src/intake/index.js';
import { compilePlaybooks, type CompiledPlaybook, type PlaybookFile } from '../src/playbooks/index.js';

/*
 * Deterministic workloads for the matcher benchmark (and tests): a library
 * of N playbooks shaped like a real deployment, and a stream of findings
 * shaped like what such a deployment receives. Same seed, same workload:
 * a small seeded PRNG, no Math.random, no fast-check.
 */

/** mulberry32: a tiny, fast, seedable PRNG; good enough for workloads. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Random {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }
  /** [0, 1) */
  float(): number {
    return this.#next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  /** A copy of `list`, shuffled (Fisher–Yates). */
  shuffle<T>(list: readonly T[]): T[] {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i += 1) out += '0123456789abcdef'[this.int(16)];
    return out;
  }
}

// ---------------------------------------------------------------------------
// The catalogue: Security Hub controls, Config rules, GuardDuty finding types

/** Security Hub services and how many controls each has (roughly the AWS Foundational Security Best Practices catalogue). */
const SERVICES: ReadonlyArray<readonly [service: string, controls: number, resourceType: string]> = [
  ['ACM', 2, 'AwsCertificateManagerCertificate'],
  ['APIGateway', 9, 'AwsApiGatewayStage'],
  ['AutoScaling', 9, 'AwsAutoScalingAutoScalingGroup'],
  ['CloudFormation', 3, 'AwsCloudFormationStack'],
  ['CloudFront', 13, 'AwsCloudFrontDistribution'],
  ['CloudTrail', 10, 'AwsCloudTrailTrail'],
  ['CloudWatch', 17, 'AwsAccount'],
  ['CodeBuild', 5, 'AwsCodeBuildProject'],
  ['DMS', 12, 'AwsDmsReplicationInstance'],
  ['DocumentDB', 5, 'AwsRdsDbCluster'],
  ['DynamoDB', 7, 'AwsDynamoDbTable'],
  ['EC2', 180, 'AwsEc2SecurityGroup'],
  ['ECR', 5, 'AwsEcrRepository'],
  ['ECS', 17, 'AwsEcsTaskDefinition'],
  ['EFS', 8, 'AwsEfsAccessPoint'],
  ['EKS', 8, 'AwsEksCluster'],
  ['ElastiCache', 7, 'AwsElastiCacheCacheCluster'],
  ['ElasticBeanstalk', 3, 'AwsElasticBeanstalkEnvironment'],
  ['ELB', 17, 'AwsElbv2LoadBalancer'],
  ['EMR', 4, 'AwsEmrCluster'],
  ['ES', 10, 'AwsElasticsearchDomain'],
  ['EventBridge', 4, 'AwsEventsEventbus'],
  ['GuardDuty', 11, 'AwsGuardDutyDetector'],
  ['IAM', 28, 'AwsIamUser'],
  ['Kinesis', 3, 'AwsKinesisStream'],
  ['KMS', 5, 'AwsKmsKey'],
  ['Lambda', 7, 'AwsLambdaFunction'],
  ['Macie', 2, 'AwsAccount'],
  ['MQ', 5, 'AwsAmazonMqBroker'],
  ['MSK', 3, 'AwsMskCluster'],
  ['Neptune', 9, 'AwsRdsDbCluster'],
  ['NetworkFirewall', 10, 'AwsNetworkFirewallFirewall'],
  ['Opensearch', 11, 'AwsOpenSearchServiceDomain'],
  ['RDS', 45, 'AwsRdsDbInstance'],
  ['Redshift', 18, 'AwsRedshiftCluster'],
  ['Route53', 2, 'AwsRoute53HostedZone'],
  ['S3', 24, 'AwsS3Bucket'],
  ['SageMaker', 5, 'AwsSageMakerNotebookInstance'],
  ['SecretsManager', 5, 'AwsSecretsManagerSecret'],
  ['SNS', 3, 'AwsSnsTopic'],
  ['SQS', 3, 'AwsSqsQueue'],
  ['SSM', 4, 'AwsSsmPatchCompliance'],
  ['StepFunctions', 2, 'AwsStepFunctionStateMachine'],
  ['WAF', 12, 'AwsWafv2WebAcl'],
];

const RULE_SUFFIXES = [
  'encryption-enabled',
  'public-access-prohibited',
  'logging-enabled',
  'mfa-enabled',
  'backup-enabled',
  'multi-az-enabled',
  'deletion-protection-enabled',
  'tls-required',
  'rotation-enabled',
  'versioning-enabled',
  'default-security-group-closed',
  'imdsv2-check',
  'no-public-ip',
  'in-vpc-only',
  'least-privilege',
  'restricted-ports',
];

export interface Control {
  readonly id: string;
  readonly configRule: string;
  readonly resourceType: string;
  readonly cisRules: readonly string[];
}

/** Every Security Hub control of the catalogue, with its Config rule and resource type; same order on every call. */
export function controlCatalogue(): Control[] {
  const random = new Random(0x5ec0);
  const controls: Control[] = [];
  const rules = new Set<string>();
  for (const [service, count, resourceType] of SERVICES) {
    for (let number = 1; number <= count; number += 1) {
      let configRule = `${service.toLowerCase()}-${RULE_SUFFIXES[(number * 7 + service.length) % RULE_SUFFIXES.length]}`;
      if (rules.has(configRule)) configRule = `${configRule}-${number}`;
      rules.add(configRule);
      const cisRules = random.chance(0.12) ? [`1.2.0/${1 + random.int(4)}.${1 + random.int(22)}`, `1.4.0/${1 + random.int(5)}.${1 + random.int(20)}`] : [];
      controls.push({ id: `${service}.${number}`, configRule, resourceType, cisRules });
    }
  }
  return controls;
}

/** GuardDuty finding types, by family (the prefix playbooks key on). */
const GUARDDUTY_TYPES: Readonly<Record<string, readonly string[]>> = {
  'Backdoor:EC2/': ['Backdoor:EC2/C&CActivity.B', 'Backdoor:EC2/C&CActivity.B!DNS', 'Backdoor:EC2/DenialOfService.Tcp', 'Backdoor:EC2/Spambot'],
  'CryptoCurrency:EC2/': ['CryptoCurrency:EC2/BitcoinTool.B', 'CryptoCurrency:EC2/BitcoinTool.B!DNS'],
  'Trojan:EC2/': ['Trojan:EC2/BlackholeTraffic', 'Trojan:EC2/DNSDataExfiltration', 'Trojan:EC2/DropPoint'],
  'UnauthorizedAccess:EC2/': ['UnauthorizedAccess:EC2/SSHBruteForce', 'UnauthorizedAccess:EC2/RDPBruteForce', 'UnauthorizedAccess:EC2/TorClient'],
  'UnauthorizedAccess:IAMUser/': [
    'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    'UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B',
    'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
  ],
  'Impact:EC2/': ['Impact:EC2/PortSweep', 'Impact:EC2/WinRMBruteForce', 'Impact:EC2/AbusedDomainRequest.Reputation'],
  'Recon:EC2/': ['Recon:EC2/PortProbeUnprotectedPort', 'Recon:EC2/Portscan'],
  'Discovery:S3/': ['Discovery:S3/MaliciousIPCaller', 'Discovery:S3/TorIPCaller'],
  'Exfiltration:S3/': ['Exfiltration:S3/AnomalousBehavior', 'Exfiltration:S3/MaliciousIPCaller'],
  'Policy:S3/': ['Policy:S3/BucketBlockPublicAccessDisabled', 'Policy:S3/BucketPublicAccessGranted'],
  'PrivilegeEscalation:IAMUser/': ['PrivilegeEscalation:IAMUser/AnomalousBehavior'],
  'Persistence:IAMUser/': ['Persistence:IAMUser/AnomalousBehavior', 'Persistence:IAMUser/NetworkPermissions'],
  'Stealth:IAMUser/': ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'Stealth:IAMUser/PasswordPolicyChange'],
  'CredentialAccess:IAMUser/': ['CredentialAccess:IAMUser/AnomalousBehavior'],
  'Execution:Runtime/': ['Execution:Runtime/NewBinaryExecuted', 'Execution:Runtime/ReverseShell'],
};
/** Families a deployment writes response playbooks for (Recon, Discovery… are left to people). */
const RESPONDED_FAMILIES = [
  'Backdoor:EC2/',
  'CryptoCurrency:EC2/',
  'Trojan:EC2/',
  'UnauthorizedAccess:EC2/',
  'UnauthorizedAccess:IAMUser/',
  'Impact:EC2/',
  'Exfiltration:S3/',
  'Policy:S3/',
  'Stealth:IAMUser/',
  'Execution:Runtime/',
];
const familyResource = (family: string): string => (family.includes(':S3/') ? 'AwsS3Bucket' : family.includes('IAMUser') ? 'AwsIamAccessKey' : 'AwsEc2Instance');

const ACCOUNTS = ['111122223333', '222233334444', '333344445555', '444455556666', '555566667777', '666677778888', '777788889999', '888899990000'];
const REGIONS = ['us-east-1', 'us-east-1', 'us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

// ---------------------------------------------------------------------------
// Playbooks

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository's default playbooks: every deployment starts from them. */
function defaultPlaybookFiles(): PlaybookFile[] {
  const directory = join(repositoryRoot, 'playbooks');
  return readdirSync(directory)
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => ({ path: `playbooks/${name}`, text: readFileSync(join(directory, name), 'utf8') }));
}

type Document = Record<string, unknown>;

/** Custom actions of the generated playbooks: shared by several playbooks, well under Security Hub's 50. */
const CUSTOM_ACTIONS = Array.from({ length: 30 }, (_, i) => ({ id: `Remediate${i}`, name: `Remediate ${i}` }));

function controlPlaybook(control: Control, index: number, random: Random): Document {
  const id = `sh-${control.id.toLowerCase().replace('.', '-')}`;
  const triggers: Document = { automatic: true };
  if (random.chance(0.3)) triggers.customAction = random.pick(CUSTOM_ACTIONS);
  // Half are written like the default library: any of the control, its CIS
  // rules, its Config rule or the Config rule Security Hub created for it.
  const match: Document = random.chance(0.5)
    ? {
        'compliance.status': 'FAILED',
        recordState: 'ACTIVE',
        ...(random.chance(0.5) ? { 'resource.type': control.resourceType } : {}),
        any: [
          { 'control.id': control.id },
          ...(control.cisRules.length > 0 ? [{ 'control.cisRules': [...control.cisRules] }] : []),
          { 'configRule.name': control.configRule },
          { 'configRule.name': { prefix: `securityhub-${control.configRule}-` } },
        ],
      }
    : {
        'control.id': control.id,
        'compliance.status': 'FAILED',
        ...(random.chance(0.3) ? { 'severity.label': ['HIGH', 'CRITICAL'] } : {}),
        ...(random.chance(0.2) ? { workflow: { not: 'SUPPRESSED' } } : {}),
      };
  return {
    id,
    title: `Remediate ${control.id} (${control.configRule})`,
    triggers,
    match,
    ...(random.chance(0.2) ? { exempt: { accounts: [random.pick(ACCOUNTS)] } } : {}),
    steps: [{ 'finding.update': { workflow: 'NOTIFIED', note: `Riposte: ${control.id}` } }, { notify: { subject: `${control.id} remediated` } }],
    priority: random.pick([1, 1, 10, 50]),
    ...(index % 9 === 0 ? { mode: 'plan' } : {}),
  };
}

function configRulePlaybook(control: Control, random: Random): Document {
  return {
    id: `config-${control.configRule}`,
    title: `Remediate the AWS Config rule ${control.configRule}`,
    triggers: { automatic: true },
    match: { source: 'config', 'configRule.name': control.configRule, 'compliance.status': 'FAILED' },
    steps: [{ notify: { subject: `${control.configRule} failed` } }],
    priority: random.pick([1, 10]),
  };
}

function guardDutyPlaybook(index: number, random: Random): Document {
  const family = RESPONDED_FAMILIES[index % RESPONDED_FAMILIES.length] as string;
  const variant = Math.floor(index / RESPONDED_FAMILIES.length);
  const triggers: Document = { automatic: true };
  if (random.chance(0.4)) triggers.customAction = random.pick(CUSTOM_ACTIONS);
  if (random.chance(0.2)) triggers.api = true;
  const match: Document = {
    'product.id': 'guardduty',
    types: { prefix: [family] },
    'resource.type': familyResource(family),
    recordState: 'ACTIVE',
  };
  // Variants: by severity, by account (one team's playbook), by region.
  if (variant % 3 === 0) match['severity.label'] = ['HIGH', 'CRITICAL'];
  else if (variant % 3 === 1) match['severity.normalized'] = { gte: 40, lt: 70 };
  else match.account = ACCOUNTS.slice(variant % ACCOUNTS.length, (variant % ACCOUNTS.length) + 2);
  if (variant >= 3) match.region = REGIONS[variant % REGIONS.length];
  return {
    id: `gd-${family.toLowerCase().replace(/[:/]+/g, '-').replace(/-$/, '')}-${variant}`,
    title: `Respond to ${family} findings (${variant})`,
    triggers,
    match,
    steps: familyResource(family) === 'AwsEc2Instance' ? [{ 'ec2.capture-metadata': {} }, { 'ec2.isolate': {} }, { notify: {} }] : [{ notify: {} }],
    priority: random.pick([10, 50, 90]),
  };
}

function customActionPlaybook(index: number, random: Random): Document {
  const action = CUSTOM_ACTIONS[index % CUSTOM_ACTIONS.length] as { id: string; name: string };
  return {
    id: `triage-${index}`,
    title: `Triage on request (${action.name})`,
    triggers: { customAction: action },
    match: random.chance(0.5)
      ? { 'resource.type': random.pick(['AwsEc2Instance', 'AwsS3Bucket', 'AwsIamUser', 'AwsEc2SecurityGroup']) }
      : { 'product.id': random.pick(['guardduty', 'securityhub', 'inspector']) },
    steps: [{ 'finding.update': { note: 'Triage requested' } }, { notify: {} }],
  };
}

function apiPlaybook(index: number, random: Random): Document {
  const withMatch = random.chance(0.5);
  return {
    id: `on-demand-${index}`,
    title: `On-demand response ${index}`,
    triggers: withMatch ? { api: true, automatic: true } : { api: true },
    ...(withMatch ? { match: { 'product.id': 'riposte', 'resource.type': 'AwsEc2Instance', account: random.pick(ACCOUNTS) } } : {}),
    steps: [{ 'ec2.capture-metadata': {} }, { 'ec2.isolate': {} }, { notify: {} }],
    priority: random.pick([1, 100]),
  };
}

interface LibraryDocuments {
  /** The repository's default playbooks, as files. */
  readonly defaults: PlaybookFile[];
  /** The generated playbooks, as documents. */
  readonly documents: Document[];
}

/**
 * The playbooks of a library of `size`: the default library, then mostly
 * Security Hub control playbooks (one per control, ~70%), Config rule
 * playbooks (~8%), GuardDuty type-prefix playbooks (~12%), custom-action
 * (~5%) and on-demand API ones (~5%). The controls covered are the first of
 * a seeded shuffle of the catalogue, so a larger library covers more of them.
 */
function libraryDocuments(size: number, random: Random): LibraryDocuments {
  const defaults = defaultPlaybookFiles().slice(0, size);
  const controls = random.shuffle(controlCatalogue());
  const generated = size - defaults.length;
  const counts = {
    guardDuty: Math.round(generated * 0.12),
    config: Math.round(generated * 0.08),
    customAction: Math.round(generated * 0.05),
    api: Math.round(generated * 0.05),
  };
  const control = generated - counts.guardDuty - counts.config - counts.customAction - counts.api;
  const documents: Document[] = [];
  for (let i = 0; i < control; i += 1) documents.push(controlPlaybook(controls[i] as Control, i, random));
  // Config-rule playbooks for controls without a Security Hub playbook.
  for (let i = 0; i < counts.config; i += 1) documents.push(configRulePlaybook(controls[controls.length - 1 - i] as Control, random));
  for (let i = 0; i < counts.guardDuty; i += 1) documents.push(guardDutyPlaybook(i, random));
  for (let i = 0; i < counts.customAction; i += 1) documents.push(customActionPlaybook(i, random));
  for (let i = 0; i < counts.api; i += 1) documents.push(apiPlaybook(i, random));
  return { defaults, documents };
}

/** Documents as YAML files after the default ones: one playbook per file mostly, some files holding a team's list. */
function filesOf({ defaults, documents }: LibraryDocuments, random: Random): PlaybookFile[] {
  const files = [...defaults];
  for (let start = 0; start < documents.length;) {
    const take = random.chance(0.8) ? 1 : 2 + random.int(4);
    const chunk = documents.slice(start, start + take);
    files.push({ path: `generated/${start}.yml`, text: stringify(chunk.length === 1 ? chunk[0] : chunk, { aliasDuplicateObjects: false }) });
    start += take;
  }
  return files;
}

/** The YAML files of a library of `size` playbooks (see libraryDocuments). */
export function playbookLibraryFiles(size: number, seed = 1): PlaybookFile[] {
  const random = new Random(seed);
  return filesOf(libraryDocuments(size, random), random);
}

/** A copy of a generated playbook, with its own id, whose match also requires `requirement` (a team's accounts, a region). */
function restrictedCopy(document: Document, suffix: string, requirement: Readonly<Record<string, string | readonly string[]>>): Document {
  const match = (document.match ?? {}) as Document;
  const [[field, value]] = Object.entries(requirement) as [[string, string | readonly string[]]];
  const restricted: Document = field in match ? { ...match, all: [{ [field]: value }] } : { ...match, [field]: value };
  return { ...document, id: `${document.id as string}-${suffix}`, title: `${document.title as string} (${suffix})`, match: restricted };
}

/**
 * How a large organisation grows its library: the generated playbooks of
 * the `size` library, then a copy of each per team (restricted to the
 * team's accounts) or per region (restricted to it), `copies` in all.
 */
export interface LibraryGrowth {
  readonly size?: number;
  /** Copies of the whole generated library: one per team or region. */
  readonly copies: number;
  /** What copy `n` is restricted to: `{ account: [...] }` or `{ region: ... }`. */
  restriction(copy: number): Readonly<Record<string, string | readonly string[]>>;
  /** Stop at this many playbooks in all (the last copy partial). */
  readonly total?: number;
}

/** The files of a grown library (see LibraryGrowth): the `size` library's, then the copies. */
export function grownLibraryFiles(growth: LibraryGrowth, seed = 1): PlaybookFile[] {
  const random = new Random(seed);
  const library = libraryDocuments(growth.size ?? 500, random);
  const copies: Document[] = [];
  const room = (growth.total ?? Number.POSITIVE_INFINITY) - library.defaults.length - library.documents.length;
  for (let copy = 0; copy < growth.copies && copies.length < room; copy += 1) {
    for (const document of library.documents) {
      if (copies.length >= room) break;
      copies.push(restrictedCopy(document, `c${copy}`, growth.restriction(copy)));
    }
  }
  return filesOf({ defaults: library.defaults, documents: [...library.documents, ...copies] }, random);
}

/** Accounts of the findings of `findingStream`: what a "real" team restriction names. */
export const FINDING_ACCOUNTS: readonly string[] = ACCOUNTS;
/** Regions the findings of `findingStream` come from. */
export const FINDING_REGIONS: readonly string[] = [...new Set(REGIONS)];
/** `count` account ids no finding of `findingStream` carries: what a "phantom" team restriction names. */
export const phantomAccounts = (count: number): string[] => Array.from({ length: count }, (_, i) => `9${String(i).padStart(11, '0')}`);

/** A compiled library of `size` playbooks (see playbookLibraryFiles). @throws PlaybookCompileError if a generated playbook does not compile. */
export function playbookLibrary(size: number, seed = 1): CompiledPlaybook[] {
  const playbooks = compilePlaybooks(playbookLibraryFiles(size, seed));
  if (playbooks.length !== size) throw new Error(`asked for ${size} playbooks, compiled ${playbooks.length}`);
  return playbooks;
}

// ---------------------------------------------------------------------------
// Findings

const AUTOMATIC: Trigger = { kind: 'automatic' };
const CIS_STANDARD = 'cis-aws-foundations-benchmark/v/1.4.0';
const FSBP_STANDARD = 'aws-foundational-security-best-practices/v/1.0.0';

function resourceOf(type: string, account: string, region: string, random: Random): Resource {
  const instanceId = `i-0${random.hex(16)}`;
  const id =
    type === 'AwsEc2Instance'
      ? `arn:aws:ec2:${region}:${account}:instance/${instanceId}`
      : type === 'AwsAccount'
        ? `AWS::::Account:${account}`
        : `arn:aws:${type.slice(3).toLowerCase()}:${region}:${account}:resource/${random.hex(12)}`;
  return {
    type,
    id,
    ...(id.startsWith('arn:') ? { arn: id } : {}),
    account,
    region,
    partition: 'aws',
    ...(type === 'AwsEc2Instance' ? { instanceId } : {}),
    securityGroupIds: [],
    networkInterfaces: [],
  };
}

interface Base {
  readonly account: string;
  readonly region: string;
  readonly id: string;
}

function base(random: Random, index: number): Base {
  return { account: random.pick(ACCOUNTS), region: random.pick(REGIONS), id: `finding-${index}-${random.hex(8)}` };
}

function raw(detailType: string, source: string): Finding['raw'] {
  return { envelope: { id: 'workload', source, detailType, resources: [] }, record: {} };
}

function controlFinding(control: Control, { account, region, id }: Base, random: Random, trigger: Trigger): Finding {
  const failed = random.chance(0.75);
  const label = random.pick(['LOW', 'MEDIUM', 'MEDIUM', 'HIGH', 'CRITICAL'] as const);
  const ocsf = random.chance(0.3);
  return {
    id: `arn:aws:securityhub:${region}:${account}:security-control/${control.id}/finding/${id}`,
    source: 'securityhub',
    format: ocsf ? 'ocsf' : 'asff',
    product: { id: 'securityhub', owner: 'aws', name: 'Security Hub' },
    title: `${control.id} ${control.configRule}`,
    types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
    severity: { label, normalized: { LOW: 1, MEDIUM: 40, HIGH: 70, CRITICAL: 90 }[label], basis: 'reported' },
    control: {
      id: control.id,
      securityControlId: control.id,
      standards: control.cisRules.length > 0 ? [FSBP_STANDARD, CIS_STANDARD] : [FSBP_STANDARD],
      cisRules: control.cisRules,
      relatedRequirements: [],
    },
    configRule: { name: `securityhub-${control.configRule}-${random.hex(8)}` },
    compliance: { status: failed ? 'FAILED' : 'PASSED' },
    workflow: failed ? 'NEW' : 'RESOLVED',
    recordState: 'ACTIVE',
    account,
    region,
    partition: 'aws',
    resources: [resourceOf(control.resourceType, account, region, random)],
    trigger,
    raw: raw(trigger.kind === 'custom-action' ? 'Security Hub Findings - Custom Action' : ocsf ? 'Findings Imported V2' : 'Security Hub Findings - Imported', 'aws.securityhub'),
  };
}

function configFinding(control: Control, { account, region, id }: Base, random: Random): Finding {
  const failed = random.chance(0.7);
  return {
    id: `arn:aws:config:${region}:${account}:config-rule/${control.configRule}/${id}`,
    source: 'config',
    format: 'config-rule',
    product: { id: 'config', owner: 'aws', name: 'Config' },
    title: `${control.configRule} is ${failed ? 'NON_COMPLIANT' : 'COMPLIANT'}`,
    types: ['Software and Configuration Checks/AWS Config Analysis'],
    severity: { label: 'MEDIUM', normalized: 40, basis: 'assumed' },
    configRule: { name: control.configRule },
    compliance: { status: failed ? 'FAILED' : 'PASSED', original: failed ? 'NON_COMPLIANT' : 'COMPLIANT' },
    workflow: 'NEW',
    recordState: 'ACTIVE',
    account,
    region,
    partition: 'aws',
    resources: [resourceOf(control.resourceType, account, region, random)],
    trigger: AUTOMATIC,
    raw: raw('Config Rules Compliance Change', 'aws.config'),
  };
}

function guardDutyFinding({ account, region, id }: Base, random: Random, trigger: Trigger): Finding {
  const family = random.pick(Object.keys(GUARDDUTY_TYPES));
  const type = random.pick(GUARDDUTY_TYPES[family] as readonly string[]);
  const native = trigger.kind === 'automatic' && random.chance(0.6);
  const severity = random.pick([2, 5, 5, 8, 8.5]);
  const label = severity >= 7 ? 'HIGH' : severity >= 4 ? 'MEDIUM' : 'LOW';
  return {
    id: native ? id : `arn:aws:guardduty:${region}:${account}:detector/${random.hex(32)}/finding/${id}`,
    source: native ? 'guardduty' : 'securityhub',
    format: native ? 'guardduty' : 'asff',
    product: { id: 'guardduty', owner: 'aws', name: 'GuardDuty' },
    title: `${type} in ${account}`,
    types: native ? [type] : [`TTPs/${type.replace('/', '-')}`, type],
    severity: { label, normalized: Math.round(severity * 10), original: String(severity), basis: 'derived' },
    workflow: 'NEW',
    recordState: 'ACTIVE',
    account,
    region,
    partition: 'aws',
    resources: [resourceOf(familyResource(family), account, region, random)],
    trigger,
    raw: raw(native ? 'GuardDuty Finding' : 'Security Hub Findings - Imported', native ? 'aws.guardduty' : 'aws.securityhub'),
  };
}

function otherFinding({ account, region, id }: Base, random: Random): Finding {
  const [productId, productName, type, resourceType] = random.pick([
    ['inspector', 'Inspector', 'Software and Configuration Checks/Vulnerabilities/CVE', 'AwsEc2Instance'],
    ['inspector', 'Inspector', 'Software and Configuration Checks/Vulnerabilities/CVE', 'AwsEcrContainerImage'],
    ['macie', 'Macie', 'Sensitive Data Identifications/PII/SensitiveData:S3Object-Personal', 'AwsS3Bucket'],
    ['access-analyzer', 'IAM Access Analyzer', 'Software and Configuration Checks/AWS Security Best Practices/External Access Granted', 'AwsIamRole'],
    ['123456789012/default', 'Acme Scanner', 'Software and Configuration Checks/Vulnerabilities', 'Other'],
  ] as const);
  const label = random.pick(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH'] as const);
  return {
    id: `arn:aws:${productId}:${region}:${account}:finding/${id}`,
    source: 'securityhub',
    format: 'asff',
    product: { id: productId, owner: productId.includes('/') ? 'third-party' : 'aws', name: productName },
    title: `${productName}: ${type}`,
    types: [type],
    severity: { label, normalized: { INFORMATIONAL: 0, LOW: 1, MEDIUM: 40, HIGH: 70 }[label], basis: 'reported' },
    workflow: 'NEW',
    recordState: random.chance(0.9) ? 'ACTIVE' : 'ARCHIVED',
    account,
    region,
    partition: 'aws',
    resources: [resourceOf(resourceType, account, region, random)],
    ...(random.chance(0.2) ? { note: { text: 'Seen', updatedBy: 'analyst' } } : {}),
    trigger: AUTOMATIC,
    raw: raw('Security Hub Findings - Imported', 'aws.securityhub'),
  };
}

function apiFinding({ account, region }: Base, random: Random, index: number, playbookIds: readonly string[]): Finding {
  const instanceId = `i-0${random.hex(16)}`;
  const playbook = random.chance(0.7) ? random.pick(playbookIds) : undefined;
  return {
    id: `riposte-api/${account}/${region}/${instanceId}/request-${index}`,
    source: 'api',
    format: 'api-request',
    product: { id: 'riposte', owner: 'riposte', name: 'Riposte', company: 'Riposte' },
    title: `On-demand incident response for ${instanceId}`,
    types: ['Riposte/On-demand/Incident response'],
    severity: { label: 'HIGH', normalized: 70, basis: 'assumed' },
    workflow: 'NEW',
    recordState: 'ACTIVE',
    account,
    region,
    partition: 'aws',
    resources: [resourceOf('AwsEc2Instance', account, region, random)],
    trigger: {
      kind: 'api',
      requestedBy: { principal: `arn:aws:iam::${account}:user/analyst` },
      requestId: `request-${index}`,
      ...(playbook === undefined ? {} : { playbook }),
      dryRun: random.chance(0.5),
    },
    raw: raw('On-demand Response Request', 'riposte.api'),
  };
}

function customActionTrigger(random: Random): Trigger {
  const action = random.chance(0.8) ? random.pick(CUSTOM_ACTIONS) : { id: 'IsolateEc2', name: 'Isolate instance' };
  return { kind: 'custom-action', actionId: action.id, actionName: action.name, actionArn: `arn:aws:securityhub:us-east-1:111122223333:action/custom/${action.id}` };
}

/**
 * `count` findings, as a deployment receives them: Security Hub control
 * findings over the whole catalogue (~52%, a quarter of them passed), AWS
 * Config evaluations (~10%), GuardDuty findings natively or through Security
 * Hub (~20%), other products' findings (~12%), custom-action requests (~4%)
 * and on-demand API requests (~2%). Whether a finding matches depends on the
 * library: the catalogue is larger than any library.
 */
export function findingStream(count: number, seed = 2): Finding[] {
  const random = new Random(seed);
  const catalogue = controlCatalogue();
  const onDemand = ['ec2-compromise-isolate', ...Array.from({ length: 25 }, (_, i) => `on-demand-${i}`)];
  const findings: Finding[] = [];
  for (let index = 0; index < count; index += 1) {
    const where = base(random, index);
    const roll = random.float();
    if (roll < 0.52) findings.push(controlFinding(random.pick(catalogue), where, random, AUTOMATIC));
    else if (roll < 0.62) findings.push(configFinding(random.pick(catalogue), where, random));
    else if (roll < 0.82) findings.push(guardDutyFinding(where, random, AUTOMATIC));
    else if (roll < 0.94) findings.push(otherFinding(where, random));
    else if (roll < 0.98) {
      const trigger = customActionTrigger(random);
      findings.push(random.chance(0.5) ? controlFinding(random.pick(catalogue), where, random, trigger) : guardDutyFinding(where, random, trigger));
    } else findings.push(apiFinding(where, random, index, onDemand));
  }
  return findings;
}
