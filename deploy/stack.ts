/*
 * The parts of Riposte's CloudFormation stack that follow from the playbook
 * library and the action registry, generated so that they cannot drift from
 * them: the EventBridge rules (from the playbooks' compiled patterns), a role
 * per function (from the actions' hosting permissions and what the pipeline
 * itself calls), the custom actions, the alarms and the resource policies.
 * serverless.yml loads it through deploy/stack.cjs; the tests import it.
 */
import { memberRoleTemplate, type ActionRegistry } from '../src/actions/index.js';
import { automaticPatternsOf, CUSTOM_ACTION_DETAIL_TYPE, detailTypeOf, forwarderTemplate, joinPatternsByKind } from '../src/deploy/index.js';
import { parsePrincipalList, type PrincipalList } from '../src/aws-names.js';
import { AutomaticMode, ConfigError } from '../src/config.js';
import { evidenceBucketTemplate, FORENSICS_READ_ACTIONS, tlsOnlyStatement } from '../src/evidence/index.js';
import { compiledLibraryText, libraryActions, loadPlaybooks, PlaybookCompileError, type CompiledPlaybook, type EventPattern } from '../src/playbooks/index.js';

type Json = unknown;
export interface CfnResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
  readonly Properties?: Record<string, Json>;
}
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: Json;
  readonly Principal?: Json;
  readonly Condition?: Json;
}

/** The stage parameters of serverless.yml (`params:`), as given. */
export interface StackParameters {
  readonly automatic: string;
  readonly memberRoleName: string;
  readonly externalId: string;
  readonly forensicsAccount: string;
  /** Comma-separated account ids or IAM role/user ARNs; empty: this account's principals only. */
  readonly apiPrincipals: string;
  /** The organization whose accounts may forward events to the bus (empty: none but this account). */
  readonly organizationId: string;
  readonly eventBus: string;
  /** Where the playbook library is read (relative to the service directory). */
  readonly playbooks: string;
  /** Days evidence objects are locked (`evidenceRetentionDays`): the default retention of the regional evidence buckets too (365 when not given). */
  readonly evidenceRetentionDays?: string;
}

const fail = (parameter: string, message: string): never => {
  throw new ConfigError(`Invalid stage parameter ${parameter}: ${message}`, `param:${parameter}`);
};

/**
 * Checks the stage parameters before anything is generated: an enforcing
 * deployment without an external ID would assume member roles that any
 * account knowing their names could be tricked into trusting (the confused
 * deputy), so `serverless package` refuses it.
 *
 * @throws ConfigError naming the parameter.
 */
export function checkParameters(parameters: StackParameters): void {
  const modes: readonly string[] = Object.values(AutomaticMode);
  if (!modes.includes(parameters.automatic)) fail('automatic', `must be one of ${modes.join(', ')} (was ${JSON.stringify(parameters.automatic)})`);
  if (parameters.automatic === AutomaticMode.Enforce && parameters.externalId.trim() === '') {
    fail('externalId', 'is required when automatic is enforce: the member roles trust Riposte only with it (set --param="externalId=…")');
  }
  if (parameters.externalId !== '' && !/^[\w+=,.@:/-]{2,1224}$/.test(parameters.externalId)) fail('externalId', 'must be 2–1224 characters of [A-Za-z0-9+=,.@:/_-]');
  if (!/^[\w+=,.@-]{1,64}$/.test(parameters.memberRoleName)) fail('memberRoleName', 'must be an IAM role name');
  if (parameters.forensicsAccount !== '' && !/^\d{12}$/.test(parameters.forensicsAccount)) fail('forensicsAccount', 'must be a 12-digit account id, or empty');
  if (parameters.organizationId !== '' && !/^o-[a-z0-9]{10,32}$/.test(parameters.organizationId)) fail('organizationId', 'must be an organization id (o-…), or empty');
  if (!/^[\w.-]{1,256}$/.test(parameters.eventBus)) fail('eventBus', 'must be an event bus name');
  const retention = parameters.evidenceRetentionDays;
  // The range of the evidence bucket template's RetentionDays (src/evidence/bucket-template.ts).
  if (retention !== undefined && !(/^[1-9]\d{0,4}$/.test(retention) && Number(retention) <= 36_500)) fail('evidenceRetentionDays', 'must be a whole number of days, 1–36500');
  apiPrincipals(parameters.apiPrincipals);
}

/** The API's principals: accounts as ids, principals as ARNs. */
function apiPrincipals(text: string): PrincipalList {
  const { list, refused } = parsePrincipalList(text);
  const [first] = refused;
  if (first !== undefined) fail('apiPrincipals', `${JSON.stringify(first)} is neither a 12-digit account id nor an IAM role, user or root ARN (no wildcards)`);
  return list;
}

/** The functions of serverless.yml, by name: their logical ids as Serverless names them, and what each calls. */
export const FUNCTIONS = {
  findings: { logicalId: 'FindingsLambdaFunction', logGroup: 'FindingsLogGroup', role: 'FindingsRole', pipeline: true, consumes: 'FindingsQueue' },
  customAction: { logicalId: 'CustomActionLambdaFunction', logGroup: 'CustomActionLogGroup', role: 'CustomActionRole', pipeline: true, failuresTo: 'CustomActionDeadLetterQueue' },
  api: { logicalId: 'ApiLambdaFunction', logGroup: 'ApiLogGroup', role: 'ApiRole', pipeline: true },
  resume: { logicalId: 'ResumeLambdaFunction', logGroup: 'ResumeLogGroup', role: 'ResumeRole', pipeline: true, consumes: 'ResumeQueue' },
  recordRetry: { logicalId: 'RecordRetryLambdaFunction', logGroup: 'RecordRetryLogGroup', role: 'RecordRetryRole', pipeline: false, consumes: 'RecordRetryQueue' },
  actionTargets: { logicalId: 'ActionTargetsLambdaFunction', logGroup: 'ActionTargetsLogGroup', role: 'ActionTargetsRole', pipeline: false },
} as const satisfies Record<string, { logicalId: string; logGroup: string; role: string; pipeline: boolean; consumes?: string; failuresTo?: string }>;
export type FunctionName = keyof typeof FUNCTIONS;

/** The functions that run playbooks, and so write evidence: the roles the regional evidence buckets let write. */
export const EVIDENCE_WRITERS: readonly FunctionName[] = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => FUNCTIONS[name].pipeline);

/** Queues and their dead-letter queues (declared in serverless.yml). */
export const DEAD_LETTER_QUEUES = ['FindingsDeadLetterQueue', 'ResumeDeadLetterQueue', 'RecordRetryDeadLetterQueue', 'CustomActionDeadLetterQueue', 'EventsDeadLetterQueue'] as const;

const arn = (queue: string): Json => ({ 'Fn::GetAtt': [queue, 'Arn'] });
const sub = (text: string): Json => ({ 'Fn::Sub': text });

/**
 * Every `*` (or wildcard) a generated policy holds, and why it cannot be
 * narrower. The template tests refuse any wildcard not listed here.
 */
export const WILDCARDS: Readonly<Record<string, string>> = {
  'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}':
    'sts:AssumeRole on the member role in any account: the member accounts are the organization’s, unknown at deploy time and changing as accounts join; the role name is fixed and each role trusts Riposte only with the external ID (with organizationId set, aws:ResourceOrgID narrows it to the organization).',
  'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default':
    'Security Hub in every region of this account: cross-region aggregation brings findings from every linked region, and Riposte updates each finding (BatchUpdateFindings) in its own region; the account is this one.',
  '${EvidenceBucket.Arn}/*': 'Objects of the evidence bucket (this stack’s): each capture writes new keys under its run’s prefix, unknown in advance.',
  'execute-api:/*': 'Every stage, method and path of this API: the statement is the API’s own resource policy, and which principals it admits is what the policy decides.',
  // Not text, so not checked here: a log group's GetAtt Arn ends in `:*` (its streams, one per Lambda instance).
};

/**
 * Operations the registry names by their API name that IAM authorizes as
 * another action: Security Hub's V2 operations are authorized as their V1
 * actions ("BatchUpdateFindings and BatchUpdateFindingsV2 both use
 * securityhub:BatchUpdateFindings", API reference), and IAM knows no V2 name.
 */
const AUTHORIZED_AS: ReadonlyMap<string, string> = new Map([
  ['securityhub:BatchUpdateFindingsV2', 'securityhub:BatchUpdateFindings'],
  ['securityhub:GetFindingsV2', 'securityhub:GetFindings'],
]);

/** Where each hosting-side IAM action of the registry applies: a resource of this stack. */
function hostingResource(action: string): Json {
  if (action === 's3:ListBucket') return arn('EvidenceBucket');
  if (action.startsWith('s3:')) return sub('${EvidenceBucket.Arn}/*');
  if (action.startsWith('sns:')) return { Ref: 'NotificationTopic' };
  // The key that signs evidence manifests (serverless.yml). While its key policy names the pipeline functions' roles
  // (PipelineFunctionsSign), a grant here on its ARN makes each role and the key depend on each other (cfn-lint
  // E3004): no action declares kms: hosting permissions until that statement gives way to this grant.
  if (action.startsWith('kms:')) return arn('EvidenceSigningKey');
  if (action.startsWith('securityhub:')) return sub('arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default');
  throw new Error(`The registry declares the hosting permission ${action}, which deploy/stack.ts does not know where to grant: add it to hostingResource()`);
}

/** The statements of the pipeline's own calls, besides the actions'. */
function pipelineStatements(parameters: StackParameters): PolicyStatement[] {
  return [
    {
      Sid: 'AssumeMemberRole',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: { 'Fn::Sub': ['arn:${AWS::Partition}:iam::*:role/${MemberRoleName}', { MemberRoleName: parameters.memberRoleName }] },
      ...(parameters.organizationId === '' ? {} : { Condition: { StringEquals: { 'aws:ResourceOrgID': parameters.organizationId } } }),
    },
    {
      Sid: 'RunLedger',
      Effect: 'Allow',
      // TransactWriteItems is authorized as the PutItem and UpdateItem it holds; DeleteItem gives a resource lease up (releaseClaim).
      Action: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Resource: arn('RunLedgerTable'),
    },
    { Sid: 'ScheduleResumes', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [arn('ResumeQueue'), arn('RecordRetryQueue')] },
    { Sid: 'ResultEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: sub(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${parameters.eventBus}`) },
    {
      Sid: 'RecordOnFinding',
      Effect: 'Allow',
      // BatchUpdateFindingsV2 is authorized as securityhub:BatchUpdateFindings (Security Hub API reference): one action covers both.
      Action: 'securityhub:BatchUpdateFindings',
      Resource: hostingResource('securityhub:BatchUpdateFindings'),
    },
    { Sid: 'Notify', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'NotificationTopic' } },
    // The topic is encrypted with the stack's key: a publisher encrypts through SNS with it.
    { Sid: 'NotifyEncrypted', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn('NotificationKey') },
  ];
}

/** The hosting-side statements of the library's actions, one per resource they act on. */
function actionStatements(actions: ActionRegistry): PolicyStatement[] {
  const byResource = new Map<string, { resource: Json; actions: Set<string> }>();
  for (const action of actions.all()) {
    for (const declared of action.permissions.hosting) {
      const permission = AUTHORIZED_AS.get(declared) ?? declared;
      const resource = hostingResource(permission);
      const key = JSON.stringify(resource);
      const entry = byResource.get(key) ?? { resource, actions: new Set<string>() };
      entry.actions.add(permission);
      byResource.set(key, entry);
    }
  }
  return [...byResource.values()].map(({ resource, actions: granted }, index) => ({ Sid: `Actions${index + 1}`, Effect: 'Allow', Action: [...granted].sort(), Resource: resource }));
}

/** What one function's role allows. */
export function functionStatements(name: FunctionName, parameters: StackParameters, actions: ActionRegistry): PolicyStatement[] {
  const fn: { logGroup: string; pipeline: boolean; consumes?: string; failuresTo?: string } = FUNCTIONS[name];
  const statements: PolicyStatement[] = [{ Sid: 'OwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(fn.logGroup) }];
  if (fn.pipeline) statements.push(...pipelineStatements(parameters), ...actionStatements(actions));
  if (fn.consumes !== undefined) {
    // What the SQS event source mapping calls with the function's role.
    statements.push({ Sid: 'ConsumeQueue', Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], Resource: arn(fn.consumes) });
  }
  if (fn.failuresTo !== undefined) statements.push({ Sid: 'FailedInvocations', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(fn.failuresTo) });
  if (name === 'recordRetry') {
    statements.push(
      { Sid: 'RunLedger', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: arn('RunLedgerTable') },
      { Sid: 'RecordOnFinding', Effect: 'Allow', Action: 'securityhub:BatchUpdateFindings', Resource: hostingResource('securityhub:BatchUpdateFindings') },
    );
  }
  if (name === 'actionTargets') {
    statements.push({
      Sid: 'ActionTargets',
      Effect: 'Allow',
      Action: ['securityhub:CreateActionTarget', 'securityhub:DeleteActionTarget', 'securityhub:DescribeActionTargets', 'securityhub:UpdateActionTarget'],
      // Custom actions are created in this region only (where the custom-action rules listen).
      Resource: sub('arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default'),
    });
  }
  return statements;
}

function roleOf(name: FunctionName, parameters: StackParameters, actions: ActionRegistry): CfnResource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `Riposte ${name} function: least privilege, generated from the action registry (deploy/stack.ts)`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
      },
      Policies: [{ PolicyName: `riposte-${name}`, PolicyDocument: { Version: '2012-10-17', Statement: functionStatements(name, parameters, actions) } }],
      Tags: [{ Key: 'riposte:managed', Value: 'true' }],
    },
  };
}

/**
 * Fields a delivery rule adds to a Security Hub pattern, so that what the
 * pipeline would drop anyway is not delivered: a finding whose workflow is
 * RESOLVED or SUPPRESSED (Riposte sets RESOLVED once a run is fixed and
 * verified: that update coming back is dropped here) or whose record is
 * archived. `exists: false` keeps a finding without the field (it reads as
 * NEW / ACTIVE). Security Hub sends one finding per event, so "absent" is
 * said of that finding. What a pattern cannot say: "Riposte wrote the note
 * after the provider's last update" compares two fields of one finding,
 * which no pattern can, so Riposte's own NOTIFIED notes (or notes without a
 * status) are delivered and dropped by the pipeline's exact loop guard.
 */
const OWN_UPDATE_EXCLUSIONS: ReadonlyMap<string, EventPattern> = new Map<string, EventPattern>([
  [
    'Security Hub Findings - Imported',
    {
      detail: { findings: { Workflow: { Status: [{ 'anything-but': ['RESOLVED', 'SUPPRESSED'] }, { exists: false }] }, RecordState: [{ 'anything-but': ['ARCHIVED'] }, { exists: false }] } },
    } as unknown as EventPattern,
  ],
  // OCSF: status_id 3 Suppressed, 4 Resolved, 5 Archived, 6 Deleted; activity_id 3 Close.
  [
    'Findings Imported V2',
    { detail: { findings: { status_id: [{ 'anything-but': [3, 4, 5, 6] }, { exists: false }], activity_id: [{ 'anything-but': [3] }, { exists: false }] } } } as unknown as EventPattern,
  ],
]);

/** `a` and `b` merged object by object; `undefined` where both set one field (a leaf). */
function mergePatterns(a: Record<string, Json>, b: Record<string, Json>): Record<string, Json> | undefined {
  const merged: Record<string, Json> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = merged[key];
    if (mine === undefined) merged[key] = value;
    else if (Array.isArray(mine) || Array.isArray(value) || typeof mine !== 'object' || typeof value !== 'object' || mine === null || value === null) return undefined;
    else {
      const inner = mergePatterns(mine as Record<string, Json>, value as Record<string, Json>);
      if (inner === undefined) return undefined;
      merged[key] = inner;
    }
  }
  return merged;
}

/** A delivery pattern with the exclusions of its kind (never narrower than the pipeline's guard); unchanged where they would collide with a field. */
export function withOwnUpdateExclusions(pattern: EventPattern): EventPattern {
  const exclusion = OWN_UPDATE_EXCLUSIONS.get(detailTypeOf(pattern));
  if (exclusion === undefined || (pattern['detail-type'] as readonly unknown[]).length !== 1) return pattern;
  return (mergePatterns(pattern, exclusion) as EventPattern | undefined) ?? pattern;
}

/** One rule per joined automatic pattern (to the findings queue), one per custom action (to its function). */
export function deliveryPatterns(playbooks: readonly CompiledPlaybook[]): {
  automatic: EventPattern[];
  customActions: Array<{ id: string; name: string; description?: string; pattern: EventPattern }>;
} {
  const automatic = joinPatternsByKind(automaticPatternsOf(playbooks), withOwnUpdateExclusions);
  const customActions = new Map<string, { id: string; name: string; description?: string; pattern: EventPattern }>();
  for (const compiled of playbooks) {
    const action = compiled.playbook.triggers.customAction;
    const pattern = compiled.eventPatterns.find((candidate) => (candidate['detail-type'] as readonly unknown[]).includes(CUSTOM_ACTION_DETAIL_TYPE));
    if (action === undefined || pattern === undefined || customActions.has(action.id)) continue;
    customActions.set(action.id, { id: action.id, name: action.name, ...(action.description === undefined ? {} : { description: action.description }), pattern });
  }
  return { automatic, customActions: [...customActions.values()] };
}

const logicalName = (text: string): string =>
  text
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .replace(/(^|\s)(\w)/g, (_match: string, _space: string, letter: string) => letter.toUpperCase())
    .replace(/\s/g, '');

/** The function errors, dead-letter depth and limit-trip alarms, to the notification topic. */
function alarms(): Record<string, CfnResource> {
  const resources: Record<string, CfnResource> = {};
  const common = { AlarmActions: [{ Ref: 'NotificationTopic' }], OKActions: [{ Ref: 'NotificationTopic' }], EvaluationPeriods: 1, TreatMissingData: 'notBreaching' };
  for (const [name, fn] of Object.entries(FUNCTIONS)) {
    resources[`${logicalName(name)}ErrorsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `Riposte: the ${name} function failed (errors it did not handle)`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn.logicalId } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        ...common,
      },
    };
  }
  for (const queue of DEAD_LETTER_QUEUES) {
    resources[`${queue}DepthAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `Riposte: messages are waiting in ${queue} (work that failed every retry)`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        ...common,
      },
    };
  }
  resources.LimitTrippedAlarm = {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: 'Riposte: a playbook reached its change limit (maxResourcesPerHour) and refused a run',
      // Published by the functions (src/lambda/metrics.ts) in EMF, with the dimension service=riposte.
      Namespace: METRICS_NAMESPACE,
      MetricName: 'LimitTrips',
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      ...common,
    },
  };
  return resources;
}

/** What the functions' EMF metrics are published under (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME in serverless.yml). */
export const METRICS_NAMESPACE = 'Riposte';
export const METRICS_SERVICE = 'riposte';

/** The generated resources of the stack, and the API's resource policy. */
export interface GeneratedStack {
  readonly Resources: Record<string, CfnResource>;
  readonly Conditions: Record<string, Json>;
  readonly Outputs: Record<string, Json>;
  readonly apiResourcePolicy: PolicyStatement[];
  /** The member-account role template of the actions the library uses (for StackSets, beside the stack). */
  readonly memberRoleTemplate: Record<string, unknown>;
  /** The forwarder template (for StackSets, beside the stack). */
  readonly forwarderTemplate: Record<string, unknown>;
  /**
   * The evidence bucket template, one stack per Region where Riposte acts (StackSets in the hosting account,
   * beside the stack): its `WriterRoleArns` is this stack's `EvidenceWriterRoleArns` output.
   */
  readonly evidenceBucketTemplate: Record<string, unknown>;
  /** The compiled playbook library the functions read at their cold start (written to PACKAGED_PLAYBOOK_LIBRARY, packaged with each). */
  readonly compiledPlaybooks: string;
}

/**
 * The API's resource policy: only the principals named (by default this
 * account's) may invoke it. The Deny matters: for principals of this
 * account, an identity policy allowing execute-api:Invoke would otherwise
 * be enough, whatever the Allow lists.
 */
export function apiResourcePolicy(parameters: StackParameters): PolicyStatement[] {
  const { accounts, arns } = apiPrincipals(parameters.apiPrincipals);
  const own = accounts.length === 0 && arns.length === 0;
  const allowed = own ? [sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root')] : [...accounts.map((account) => sub(`arn:\${AWS::Partition}:iam::${account}:root`)), ...arns];
  const unless: Record<string, Json> = own
    ? { StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } }
    : {
        ...(accounts.length === 0 ? {} : { StringNotEquals: { 'aws:PrincipalAccount': accounts } }),
        ...(arns.length === 0 ? {} : { ArnNotEquals: { 'aws:PrincipalArn': arns } }),
      };
  return [
    { Effect: 'Allow', Principal: { AWS: allowed }, Action: 'execute-api:Invoke', Resource: ['execute-api:/*'] },
    // Both conditions hold only for a principal matching neither list: it is refused.
    { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'], Condition: unless },
  ];
}

/** Generates the stack's library-derived parts. @throws ConfigError for a bad parameter; PlaybookCompileError for a library with problems. */
export async function generateStack(parameters: StackParameters): Promise<GeneratedStack> {
  checkParameters(parameters);
  const { playbooks, problems } = await loadPlaybooks(parameters.playbooks);
  if (problems.length > 0) throw new PlaybookCompileError(problems);
  const actions = libraryActions(playbooks);
  const Resources: Record<string, CfnResource> = {};

  for (const name of Object.keys(FUNCTIONS) as FunctionName[]) Resources[FUNCTIONS[name].role] = roleOf(name, parameters, actions);

  const { automatic, customActions } = deliveryPatterns(playbooks);
  const targetsRetry = { RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 }, DeadLetterConfig: { Arn: arn('EventsDeadLetterQueue') } };
  const automaticRules: string[] = [];
  const counts = new Map<string, number>();
  for (const pattern of automatic) {
    const kind = logicalName(detailTypeOf(pattern));
    const index = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, index);
    const name = `Deliver${kind}${index === 1 ? '' : index}Rule`;
    automaticRules.push(name);
    Resources[name] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `Riposte: ${detailTypeOf(pattern)} events the playbooks act on, to the findings queue (generated from the playbooks)`,
        EventPattern: pattern,
        State: 'ENABLED',
        Targets: [{ Id: 'findings-queue', Arn: arn('FindingsQueue'), ...targetsRetry }],
      },
    };
  }
  const customActionRules: string[] = [];
  for (const action of customActions) {
    const name = `CustomAction${logicalName(action.id)}Rule`;
    customActionRules.push(name);
    Resources[name] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `Riposte: the Security Hub custom action ${action.id} (${action.name}), to the custom-action function`,
        EventPattern: action.pattern,
        State: 'ENABLED',
        Targets: [{ Id: 'custom-action-function', Arn: arn(FUNCTIONS.customAction.logicalId), ...targetsRetry }],
      },
    };
    Resources[`${name}Permission`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: { Action: 'lambda:InvokeFunction', FunctionName: arn(FUNCTIONS.customAction.logicalId), Principal: 'events.amazonaws.com', SourceArn: arn(name) },
    };
  }
  const fromRules = (rules: readonly string[]): Json => ({ ArnEquals: { 'aws:SourceArn': rules.map(arn) } });
  Resources.FindingsQueuePolicy = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: 'FindingsQueue' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'DeliveryRules', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn('FindingsQueue'), Condition: fromRules(automaticRules) },
        ],
      },
    },
  };
  Resources.EventsDeadLetterQueuePolicy = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: 'EventsDeadLetterQueue' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'UndeliveredEvents',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arn('EventsDeadLetterQueue'),
            Condition: fromRules([...automaticRules, ...customActionRules]),
          },
        ],
      },
    },
  };

  Resources.SecurityHubActionTargets = {
    Type: 'Custom::SecurityHubActionTargets',
    Properties: {
      ServiceToken: arn(FUNCTIONS.actionTargets.logicalId),
      // From the playbooks' customAction bindings (at most 50, checked by the compiler).
      ActionTargets: customActions.map((action) => ({ Id: action.id, Name: action.name, Description: action.description ?? action.name })),
    },
  };

  Resources.EvidenceBucketPolicy = {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: { Ref: 'EvidenceBucket' },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          tlsOnlyStatement(arn('EvidenceBucket'), sub('${EvidenceBucket.Arn}/*')),
          ...(parameters.forensicsAccount === ''
            ? []
            : [
                {
                  Sid: 'ForensicsRead',
                  Effect: 'Allow',
                  Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${parameters.forensicsAccount}:root`) },
                  Action: [...FORENSICS_READ_ACTIONS],
                  Resource: [arn('EvidenceBucket'), sub('${EvidenceBucket.Arn}/*')],
                },
              ]),
        ],
      },
    },
  };

  if (parameters.organizationId !== '') {
    // The forwarders of the organization's accounts send GuardDuty and Config events to this bus.
    Resources.OrganizationForwardersBusPolicy = {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        EventBusName: parameters.eventBus,
        StatementId: 'riposte-organization-forwarders',
        Statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: sub(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${parameters.eventBus}`),
          Condition: { StringEquals: { 'aws:PrincipalOrgID': parameters.organizationId } },
        },
      },
    };
  }

  Object.assign(Resources, alarms());

  return {
    Resources,
    Conditions: {},
    Outputs: {
      EvidenceBucketName: { Value: { Ref: 'EvidenceBucket' } },
      NotificationTopicArn: { Value: { Ref: 'NotificationTopic' } },
      FindingsQueueUrl: { Value: { Ref: 'FindingsQueue' } },
      // The roles of the functions that run playbooks, whose evidence steps write to the regional evidence buckets:
      // the `WriterRoleArns` parameter of the evidence bucket template, as it takes them (a comma-delimited list).
      EvidenceWriterRoleArns: { Value: { 'Fn::Join': [',', EVIDENCE_WRITERS.map((name) => arn(FUNCTIONS[name].role))] } },
    },
    apiResourcePolicy: apiResourcePolicy(parameters),
    memberRoleTemplate: memberRoleTemplate(actions, { roleName: parameters.memberRoleName, ...(parameters.forensicsAccount === '' ? {} : { forensicsAccountId: parameters.forensicsAccount }) }),
    forwarderTemplate: forwarderTemplate(playbooks, { busName: parameters.eventBus }),
    evidenceBucketTemplate: evidenceBucketTemplate({
      ...(parameters.evidenceRetentionDays === undefined ? {} : { retentionDays: Number(parameters.evidenceRetentionDays) }),
      // The member accounts' forensic collection role writes Run Command output to the bucket of its Region: the organization's accounts only.
      ...(parameters.organizationId === '' ? {} : { collectionOrganizationId: parameters.organizationId }),
    }),
    compiledPlaybooks: compiledLibraryText(playbooks),
  };
}
