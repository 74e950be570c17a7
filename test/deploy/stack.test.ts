import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config.js';
import { evidenceBucketTemplate } from '../../src/evidence/index.js';
import { IndexedMatcher } from '../../src/engine/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { loadPlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { EVIDENCE_WRITERS, FUNCTIONS, generateStack, WILDCARDS, type CfnResource, type FunctionName, type PolicyStatement, type StackParameters } from '../../deploy/stack.js';
import { matchesAnyEventPattern, validateEventPattern } from '../support/event-pattern-matcher.js';
import { fixture } from '../support/fixtures.js';
import { root } from './serverless-config.js';

type Json = Record<string, unknown>;

/** serverless.yml's default stage parameters. */
export const DEFAULT_PARAMETERS: StackParameters = {
  automatic: 'plan',
  memberRoleName: 'RiposteMemberRole',
  externalId: '',
  forensicsAccount: '',
  apiPrincipals: '',
  organizationId: '',
  eventBus: 'default',
  playbooks: join(root, 'playbooks'),
};

const stack = await generateStack(DEFAULT_PARAMETERS);
const { playbooks: LIBRARY } = await loadPlaybooks(join(root, 'playbooks'));

const ofType = (type: string): Array<[string, CfnResource]> => Object.entries(stack.Resources).filter(([, resource]) => resource.Type === type);
const rules = ofType('AWS::Events::Rule');
const targetOf = (resource: CfnResource): Json => ((resource.Properties?.Targets as Json[])[0] as Json).Arn as Json;
const automaticPatterns = rules.filter(([, rule]) => JSON.stringify(targetOf(rule)).includes('FindingsQueue')).map(([, rule]) => rule.Properties?.EventPattern);
const customActionPatterns = rules.filter(([, rule]) => JSON.stringify(targetOf(rule)).includes('CustomActionLambdaFunction')).map(([, rule]) => rule.Properties?.EventPattern);

/** Every event fixture Riposte reads, by file name. */
const FIXTURES = readdirSync(join(root, 'test', 'fixtures', 'events'))
  .filter((name) => name.endsWith('.json') && !name.startsWith('api'))
  .map((name) => ({ name, event: fixture<Json>(name) }));

const findingsOf = (event: unknown): Finding[] => {
  try {
    return [...readEvent(event).findings];
  } catch {
    return [];
  }
};
const matched = async (finding: Finding): Promise<string[]> => (await new IndexedMatcher(LIBRARY).match(finding)).map((match) => match.playbook.playbook.id);
const asff = (event: Json): Json => ((event.detail as Json).findings as Json[])[0] as Json;

/** Security Hub's EC2.2 control finding: the open-SSH fixture as the default security group's control. */
function defaultSecurityGroupFinding(): Json {
  const event = fixture<Json>('securityhub-imported-open-ssh.json');
  const finding = asff(event);
  finding.Compliance = { ...(finding.Compliance as Json), SecurityControlId: 'EC2.2' };
  finding.ProductFields = { ...(finding.ProductFields as Json), ControlId: 'EC2.2' };
  return event;
}

describe('generated EventBridge rules', () => {
  it('are valid EventBridge patterns within the 2,048-character limit', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const [name, rule] of rules) {
      expect(() => validateEventPattern(rule.Properties?.EventPattern), name).not.toThrow();
      expect(JSON.stringify(rule.Properties?.EventPattern).length, name).toBeLessThanOrEqual(2048);
    }
  });

  it('every automatic playbook has a rule accepting each fixture it matches (the matcher decides which)', async () => {
    const events = [...FIXTURES, { name: 'EC2.2 variant of securityhub-imported-open-ssh.json', event: defaultSecurityGroupFinding() }];
    const delivered = new Map<string, string[]>();
    for (const { name, event } of events) {
      for (const finding of findingsOf(event)) {
        if (finding.trigger.kind !== 'automatic') continue;
        for (const id of await matched(finding)) {
          expect(matchesAnyEventPattern(automaticPatterns, event), `${id} matches ${name}: a rule must deliver it`).toBe(true);
          delivered.set(id, [...(delivered.get(id) ?? []), name]);
        }
      }
    }
    // Not vacuous: every automatic playbook of the library matched a fixture.
    for (const compiled of LIBRARY.filter((playbook) => playbook.playbook.triggers.automatic)) expect(delivered.get(compiled.playbook.id), compiled.playbook.id).toBeDefined();
  });

  it('deliver nothing the playbooks do not match: an unknown product, an IAM access-key GuardDuty finding, a custom action', async () => {
    for (const name of ['securityhub-imported-unknown-product.json', 'guardduty-iam-accesskey.json', 'securityhub-custom-action.json']) {
      const event = fixture<Json>(name);
      expect(matchesAnyEventPattern(automaticPatterns, event), name).toBe(false);
    }
  });

  it('reject Riposte’s own ASFF update that set RESOLVED (securityhub-imported-riposte-own-note.json with Workflow RESOLVED)', () => {
    const event = fixture<Json>('securityhub-imported-riposte-own-note.json');
    const before = matchesAnyEventPattern(automaticPatterns, event);
    asff(event).Workflow = { Status: 'RESOLVED' };

    expect(before).toBe(true);
    expect(matchesAnyEventPattern(automaticPatterns, event)).toBe(false);
  });

  it('reject Riposte’s own OCSF update that set Resolved (securityhub-v2-ocsf-riposte-comment.json with status_id 4)', () => {
    const event = fixture<Json>('securityhub-v2-ocsf-riposte-comment.json');
    const before = matchesAnyEventPattern(automaticPatterns, event);
    const finding = asff(event);
    finding.status_id = 4;
    finding.status = 'Resolved';

    expect(before).toBe(true);
    expect(matchesAnyEventPattern(automaticPatterns, event)).toBe(false);
  });

  it('reject archived and suppressed findings, which the guard would skip (RecordState ARCHIVED, Workflow SUPPRESSED, OCSF activity Close)', () => {
    const archived = fixture<Json>('securityhub-imported-cis-password-policy.json');
    asff(archived).RecordState = 'ARCHIVED';
    const suppressed = fixture<Json>('securityhub-imported-cis-password-policy.json');
    asff(suppressed).Workflow = { Status: 'SUPPRESSED' };
    const closed = fixture<Json>('securityhub-v2-ocsf-compliance.json');
    asff(closed).activity_id = 3;

    for (const event of [archived, suppressed, closed]) expect(matchesAnyEventPattern(automaticPatterns, event)).toBe(false);
  });

  it('still deliver Riposte’s own NOTIFIED note (securityhub-imported-riposte-own-note.json): no pattern can compare the note’s time with the finding’s, the pipeline’s loop guard drops it exactly', () => {
    expect(matchesAnyEventPattern(automaticPatterns, fixture<Json>('securityhub-imported-riposte-own-note.json'))).toBe(true);
  });

  it('still deliver a finding without Workflow or RecordState (it reads as NEW / ACTIVE)', () => {
    const event = fixture<Json>('securityhub-imported-cis-password-policy.json');
    delete asff(event).Workflow;
    delete asff(event).RecordState;
    delete asff(event).WorkflowState;
    expect(matchesAnyEventPattern(automaticPatterns, event)).toBe(true);
  });

  it('send each custom action of the library to the custom-action function, and only its own action', () => {
    const ids = LIBRARY.flatMap((compiled) => (compiled.playbook.triggers.customAction === undefined ? [] : [compiled.playbook.triggers.customAction.id]));
    expect(customActionPatterns).toHaveLength(new Set(ids).size);
    const event = fixture<Json>('securityhub-custom-action.json');
    const id = String((event.resources as string[])[0])
      .split('/')
      .pop() as string;
    expect(customActionPatterns.filter((pattern) => matchesAnyEventPattern([pattern], event))).toHaveLength(ids.includes(id) ? 1 : 0);
    for (const [name] of rules.filter(([, rule]) => JSON.stringify(targetOf(rule)).includes('CustomActionLambdaFunction'))) {
      expect(stack.Resources[`${name}Permission`]?.Properties).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [name, 'Arn'] } });
    }
  });

  it('admit only their own rules to the findings queue', () => {
    const statement = ((stack.Resources.FindingsQueuePolicy?.Properties?.PolicyDocument as Json).Statement as PolicyStatement[])[0];
    const automaticRules = rules.filter(([, rule]) => JSON.stringify(targetOf(rule)).includes('FindingsQueue')).map(([name]) => ({ 'Fn::GetAtt': [name, 'Arn'] }));
    expect(statement).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': automaticRules } } });
  });

  it('list the library’s custom actions in the Custom::SecurityHubActionTargets resource', () => {
    const targets = stack.Resources.SecurityHubActionTargets?.Properties?.ActionTargets as Array<{ Id: string; Name: string }>;
    const expected = new Map(
      LIBRARY.flatMap((compiled) => (compiled.playbook.triggers.customAction === undefined ? [] : [[compiled.playbook.triggers.customAction.id, compiled.playbook.triggers.customAction.name]])),
    );
    expect(new Map(targets.map((target) => [target.Id, target.Name]))).toEqual(expected);
  });
});

/** Every statement of every policy the stack generates: roles, queue, bucket, bus and API policies. */
function statementsOf(resources: Record<string, CfnResource>): Array<{ where: string; statement: PolicyStatement }> {
  const found: Array<{ where: string; statement: PolicyStatement }> = [];
  for (const [name, resource] of Object.entries(resources)) {
    const documents: Json[] = [];
    const properties = resource.Properties ?? {};
    for (const policy of (properties.Policies as Json[] | undefined) ?? []) documents.push(policy.PolicyDocument as Json);
    for (const key of ['PolicyDocument', 'KeyPolicy']) if (properties[key] !== undefined) documents.push(properties[key] as Json);
    if (properties.Statement !== undefined) documents.push({ Statement: [properties.Statement] });
    for (const document of documents) for (const statement of document.Statement as PolicyStatement[]) found.push({ where: name, statement });
  }
  return found;
}

/** A resource as the allow-list names it: the Fn::Sub text, or the literal. */
const resourceText = (resource: unknown): string[] => {
  if (Array.isArray(resource)) return resource.flatMap(resourceText);
  if (typeof resource === 'string') return [resource];
  const sub = (resource as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub === 'string') return [sub];
  if (Array.isArray(sub)) return [String(sub[0])];
  return [];
};

const actionsOf = (statements: readonly PolicyStatement[]): string[] =>
  [...new Set(statements.flatMap((statement): string[] => (typeof statement.Action === 'string' ? [statement.Action] : [...statement.Action])))].sort();
const roleStatements = (name: FunctionName): PolicyStatement[] =>
  ((stack.Resources[FUNCTIONS[name].role]?.Properties?.Policies as Json[])[0]?.PolicyDocument as { Statement: PolicyStatement[] }).Statement;

/** What the pipeline itself calls, on every function that runs playbooks. */
const PIPELINE = [
  'dynamodb:BatchGetItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'events:PutEvents',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'securityhub:BatchUpdateFindings',
  'sns:Publish',
  'sqs:SendMessage',
  'sts:AssumeRole',
];
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];
/** The library's hosting-side permissions, as its playbooks compiled them. */
const libraryHosting = (playbooks: readonly CompiledPlaybook[]): string[] => [...new Set(playbooks.flatMap((compiled) => compiled.permissions.hosting))].sort();

describe('a role per function, least privilege', () => {
  it('each function’s role holds exactly what it needs', () => {
    const hosting = libraryHosting(LIBRARY);
    const expected: Record<FunctionName, string[]> = {
      findings: [...LOGS, ...PIPELINE, ...hosting, ...CONSUME],
      customAction: [...LOGS, ...PIPELINE, ...hosting],
      api: [...LOGS, ...PIPELINE, ...hosting],
      resume: [...LOGS, ...PIPELINE, ...hosting, ...CONSUME],
      recordRetry: [...LOGS, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'securityhub:BatchUpdateFindings', ...CONSUME],
      actionTargets: [...LOGS, 'securityhub:CreateActionTarget', 'securityhub:DeleteActionTarget', 'securityhub:DescribeActionTargets', 'securityhub:UpdateActionTarget'],
    };
    // The library's steps write evidence (ec2.capture-metadata): the registry's s3 permissions reach the roles.
    expect(hosting).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:PutObjectLegalHold']);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) expect(actionsOf(roleStatements(name)), name).toEqual([...new Set(expected[name])].sort());
  });

  it('sts:AssumeRole names the member role only, in any account', () => {
    const assume = roleStatements('findings').find((statement) => statement.Action === 'sts:AssumeRole');
    expect(assume?.Resource).toEqual({ 'Fn::Sub': ['arn:${AWS::Partition}:iam::*:role/${MemberRoleName}', { MemberRoleName: 'RiposteMemberRole' }] });
  });

  it('with organizationId, sts:AssumeRole is narrowed to the organization’s accounts', async () => {
    const narrowed = await generateStack({ ...DEFAULT_PARAMETERS, organizationId: 'o-a1b2c3d4e5' });
    const statements = ((narrowed.Resources.FindingsRole?.Properties?.Policies as Json[])[0]?.PolicyDocument as { Statement: PolicyStatement[] }).Statement;
    expect(statements.find((statement) => statement.Action === 'sts:AssumeRole')?.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } });
    expect(narrowed.Resources.OrganizationForwardersBusPolicy?.Properties).toMatchObject({ Statement: { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } } });
  });

  it('every wildcard resource of every generated policy is in the allow-list with its justification', async () => {
    const everything = await generateStack({ ...DEFAULT_PARAMETERS, organizationId: 'o-a1b2c3d4e5', forensicsAccount: '444455556666' });
    const wildcards = statementsOf(everything.Resources)
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ where, statement }) => resourceText(statement.Resource).map((text) => ({ where, text })))
      .filter(({ text }) => text.includes('*'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const { where, text } of wildcards) expect(Object.keys(WILDCARDS), `${where}: ${text}`).toContain(text);
    for (const justification of Object.values(WILDCARDS)) expect(justification.length).toBeGreaterThan(40);
  });

  it('no role allows an action on Resource "*"', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) for (const statement of roleStatements(name)) expect(statement.Resource, `${name} ${statement.Sid ?? ''}`).not.toBe('*');
  });
});

describe('stage parameters', () => {
  it('automatic enforce without an external ID is refused, naming the parameter', async () => {
    const refused = generateStack({ ...DEFAULT_PARAMETERS, automatic: 'enforce' });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toMatchObject({ context: { field: 'param:externalId' } });
  });

  it('automatic enforce with an external ID is accepted', async () => {
    await expect(generateStack({ ...DEFAULT_PARAMETERS, automatic: 'enforce', externalId: 'riposte-7f3c9a' })).resolves.toBeDefined();
  });

  it.each([
    ['automatic', { automatic: 'yes' }],
    ['apiPrincipals', { apiPrincipals: 'arn:aws:iam::111122223333:role/*' }],
    ['forensicsAccount', { forensicsAccount: '1234' }],
    ['memberRoleName', { memberRoleName: 'a role' }],
  ])('a bad %s is refused', async (parameter, change) => {
    await expect(generateStack({ ...DEFAULT_PARAMETERS, ...change })).rejects.toMatchObject({ context: { field: `param:${parameter}` } });
  });
});

describe('the API’s resource policy', () => {
  it('by default admits this account’s principals only', () => {
    expect(stack.apiResourcePolicy).toEqual([
      { Effect: 'Allow', Principal: { AWS: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' }] }, Action: 'execute-api:Invoke', Resource: ['execute-api:/*'] },
      { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'], Condition: { StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
  });

  it('with apiPrincipals, admits those accounts and roles and denies every other principal', async () => {
    const { apiResourcePolicy } = await generateStack({ ...DEFAULT_PARAMETERS, apiPrincipals: '111122223333, arn:aws:iam::444455556666:role/Responder' });
    expect(apiResourcePolicy[1]).toMatchObject({
      Effect: 'Deny',
      Condition: { StringNotEquals: { 'aws:PrincipalAccount': ['111122223333'] }, ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::444455556666:role/Responder'] } },
    });
  });
});

describe('StackSets templates beside the stack', () => {
  it('the member role allows exactly what the library’s playbooks use (plus the target reads)', () => {
    const policy = (((stack.memberRoleTemplate.Resources as Json).RiposteMemberRole as CfnResource).Properties?.Policies as Json[])[0]?.PolicyDocument as { Statement: PolicyStatement[] };
    const granted = actionsOf(policy.Statement);
    for (const permission of LIBRARY.flatMap((compiled) => compiled.permissions.member)) expect(granted).toContain(permission);
    // Nothing beyond: no action the library uses terminates an instance or deletes a volume, so the role cannot either.
    expect(granted).not.toContain('ec2:TerminateInstances');
    expect(granted).not.toContain('ec2:DeleteVolume');
    expect(granted.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('the evidence bucket template is the one of src/evidence, locking objects as long as the stage’s evidenceRetentionDays (365 unless given)', async () => {
    expect(stack.evidenceBucketTemplate).toEqual(evidenceBucketTemplate());
    const month = await generateStack({ ...DEFAULT_PARAMETERS, evidenceRetentionDays: '30' });
    expect((month.evidenceBucketTemplate.Parameters as Record<string, Json>).RetentionDays).toMatchObject({ Default: 30 });
    for (const days of ['0', '36501', '1.5', 'a year']) {
      await expect(generateStack({ ...DEFAULT_PARAMETERS, evidenceRetentionDays: days }), days).rejects.toMatchObject({ context: { field: 'param:evidenceRetentionDays' } });
    }
  });

  it('the stack outputs the evidence bucket template’s WriterRoleArns: the roles of exactly the functions whose roles write evidence', () => {
    const writers = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => roleStatements(name).some((statement) => actionsOf([statement]).includes('s3:PutObject')));
    expect(EVIDENCE_WRITERS).toEqual(writers);
    expect(stack.Outputs.EvidenceWriterRoleArns).toEqual({ Value: { 'Fn::Join': [',', writers.map((name) => ({ 'Fn::GetAtt': [FUNCTIONS[name].role, 'Arn'] }))] } });
    expect((stack.evidenceBucketTemplate.Parameters as Record<string, Json>).WriterRoleArns).toMatchObject({ Type: 'CommaDelimitedList' });
  });

  it('the member role is created in one region only (IAM is global), a no-op resource elsewhere', () => {
    const resources = stack.memberRoleTemplate.Resources as Record<string, CfnResource>;
    expect(resources.RiposteMemberRole?.Condition).toBe('CreateRole');
    expect((stack.memberRoleTemplate.Conditions as Json).CreateRole).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] });
    expect(Object.values(resources).filter((resource) => resource.Condition === undefined)).toEqual([{ Type: 'AWS::CloudFormation::WaitConditionHandle' }]);
  });
});
