import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { builtInActions } from '../actions/index.js';
import { loadConfig } from '../config.js';
import { DynamoDbRunLedger, runLedgerTableProperties } from '../ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../log/index.js';
import { assemblePipeline, MemoryResumeQueue, RESULT_EVENT_DETAIL_TYPE, RESULT_EVENT_SOURCE, type PlaybookRunResult } from '../pipeline/index.js';
import { AwsClientFactory, MemberClients, MemberCredentials } from '../aws/index.js';
import { emulatorClientOptions, startEmulator } from '../emulator/index.js';
import { IndexedMatcher } from '../engine/index.js';
import { readEvent } from '../intake/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { describeFinding, describeMatch, terminalLines } from './format.js';
import type { CommandIo } from './io.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'examples', 'events');
const MEMBER_ACCOUNT = '111122223333';

interface DemoResources {
  readonly table: string;
  readonly topicArn: string;
  readonly bus: string;
  readonly queueUrl: string;
}

/** What a deployment creates, on the emulator: the ledger table, the SNS topic, a result-event bus with a rule into SQS. */
async function demoResources(factory: AwsClientFactory): Promise<DemoResources> {
  const table = 'riposte-demo-ledger';
  const properties = runLedgerTableProperties();
  await factory
    .create(DynamoDBClient)
    .send(new CreateTableCommand({ TableName: table, KeySchema: [...properties.KeySchema], AttributeDefinitions: [...properties.AttributeDefinitions], BillingMode: properties.BillingMode }));
  const { TopicArn } = await factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-demo' }));
  const bus = 'riposte-demo';
  const events = factory.create(EventBridgeClient);
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const sqs = factory.create(SQSClient);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'riposte-demo-results' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: 'results', EventBusName: bus, EventPattern: JSON.stringify({ source: [RESULT_EVENT_SOURCE], 'detail-type': [RESULT_EVENT_DETAIL_TYPE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'results', EventBusName: bus, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }));
  return { table, topicArn: TopicArn as string, bus, queueUrl: QueueUrl as string };
}

async function resultEvents(factory: AwsClientFactory, queueUrl: string): Promise<unknown[]> {
  const { Messages } = await factory.create(SQSClient).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
  return (Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null') as unknown);
}

/** A run as the demo prints it: status, each step record, what was recorded. */
function describeRun(run: PlaybookRunResult): string {
  const lines = [`  run        ${run.playbookId} ${run.runId ?? ''} — ${run.status} (${run.mode}: ${run.modeReason})`];
  for (const step of run.steps) lines.push(`  ${step.phase.padEnd(10)} ${step.action}: ${step.status} — ${step.summary}`);
  lines.push(`  outcome    ${run.summary}`);
  if (run.recording !== undefined) {
    for (const [kind, item] of Object.entries(run.recording)) {
      lines.push(`  ${kind.padEnd(10)} ${item.status === 'failed' ? `not recorded: ${item.error.message}` : `${item.status}: ${item.detail}`}`);
    }
  }
  return terminalLines(lines);
}

/**
 * `riposte demo`: runs against the embedded AWS emulator (moto_server), so it
 * needs no AWS account. Today it shows the stages that exist: a member
 * account with a weak password policy, reached by AssumeRole; the Security
 * Hub and GuardDuty findings as intake reads them; the playbooks they match
 * and why. Remediation joins as it lands.
 */
export function registerDemoCommand(program: Command, io: CommandIo): void {
  program
    .command('demo')
    .description('run Riposte against the embedded AWS emulator (moto_server)')
    .action(async () => {
      const say = (line = ''): unknown => io.stdout.write(`${line}\n`);
      say('Starting the AWS emulator (moto_server)…');
      const emulator = await startEmulator();
      try {
        const factory = new AwsClientFactory({ region: 'us-east-1', endpoint: emulator.endpoint, maxAttempts: 2 }, emulatorClientOptions());
        say(`Emulator at ${emulator.endpoint}`);

        // The member account, reached the way production reaches it: STS AssumeRole, one session per account.
        const clients = new MemberClients(
          factory,
          new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-demo', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false }),
        );
        const target = { account: MEMBER_ACCOUNT, region: 'us-east-1', partition: 'aws' as const, correlationId: 'demo' };
        const member = await clients.create(STSClient, target).send(new GetCallerIdentityCommand({}));
        say(`Assumed ${member.Arn}`);

        const iam = clients.create(IAMClient, target);
        const describePolicy = async (): Promise<string> => {
          const { PasswordPolicy: policy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
          return `minimum length ${policy?.MinimumPasswordLength}, symbols ${policy?.RequireSymbols ? 'required' : 'not required'}, reuse prevention ${policy?.PasswordReusePrevention || 'none'}, max age ${policy?.MaxPasswordAge || 'none'}`;
        };
        await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
        say(`Member account ${MEMBER_ACCOUNT} password policy: ${await describePolicy()}`);
        say();

        const { playbooks, problems } = await loadPlaybooks(join(root, 'playbooks'));
        if (problems.length > 0) throw new PlaybookCompileError(problems);
        const matcher = new IndexedMatcher(playbooks);
        say(`Loaded ${playbooks.length} playbooks from playbooks/`);
        say();

        const registry = builtInActions();
        for (const name of ['securityhub-cis-password-policy-failed.json', 'guardduty-ec2-backdoor.json']) {
          const result = readEvent(await readFile(join(examples, name), 'utf8'), { origin: name });
          say(`examples/events/${name}:`);
          for (const finding of result.findings) {
            say(describeFinding(finding));
            const matches = await matcher.match(finding);
            if (matches.length === 0) say('  matched    no playbook');
            for (const match of matches) say(describeMatch(match));
          }
          say();
        }

        // The CIS story end to end, through the pipeline a deployment runs: a DynamoDB ledger, SNS and
        // EventBridge records, all on the emulator. First as a deployment starts (automatic: plan), then enforced.
        const resources = await demoResources(factory);
        const config = loadConfig({
          AWS_REGION: 'us-east-1',
          RIPOSTE_AWS_ENDPOINT: emulator.endpoint,
          RIPOSTE_LEDGER_TABLE: resources.table,
          RIPOSTE_TOPIC_ARN: resources.topicArn,
          RIPOSTE_EVENT_BUS: resources.bus,
          RIPOSTE_EXTERNAL_ID: 'riposte-demo',
        });
        const logs = new MemoryLogSink();
        const logger = new RiposteLogger({ logLevel: 'debug', stream: logs });
        const parts = { factory, playbooks, logger, registry, resumeQueue: new MemoryResumeQueue() };
        const event = JSON.parse(await readFile(join(examples, 'securityhub-cis-password-policy-failed.json'), 'utf8')) as { detail: { findings: AwsSecurityFinding[] } };
        // The finding exists in Security Hub (the emulator's, which implements BatchUpdateFindings), so the run's note can land and be read back.
        const securityHub = factory.create(SecurityHubClient);
        await securityHub.send(new BatchImportFindingsCommand({ Findings: event.detail.findings }));
        const [imported] = event.detail.findings;

        say('Delivering the CIS finding with automatic remediation plan-only (the default):');
        const planned = await assemblePipeline(config, parts).handleEvent(event, { correlationId: 'demo-plan' });
        for (const run of planned.findings.flatMap((finding) => finding.runs)) say(describeRun(run));
        say(`  read back  ${await describePolicy()} (unchanged)`);
        say();

        say('Delivering it again with automatic remediation enforced:');
        const enforcing = assemblePipeline({ ...config, automatic: 'enforce' }, parts);
        const enforced = await enforcing.handleEvent(event, { correlationId: 'demo-enforce' });
        const runs = enforced.findings.flatMap((finding) => finding.runs);
        for (const run of runs) say(describeRun(run));
        say(`  read back  ${await describePolicy()}`);
        const again = await enforcing.handleEvent(event, { correlationId: 'demo-again' });
        for (const run of again.findings.flatMap((finding) => finding.runs)) say(terminalLines([`  again      ${run.status}: ${run.summary}`]));
        const runId = runs[0]?.runId;
        if (runId !== undefined) {
          const ledger = new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), resources.table);
          const record = await ledger.getRun(runId);
          say(`  ledger     run ${runId}: ${record?.status}, ${record?.steps.length} step records, outcome ${record?.outcome?.workflowStatus ?? '(no status)'} (DynamoDB table ${resources.table})`);
        }
        if (imported?.Id !== undefined) {
          const { Findings: [noted] = [] } = await securityHub.send(new GetFindingsCommand({ Filters: { Id: [{ Value: imported.Id, Comparison: 'EQUALS' }] } }));
          say(
            terminalLines([
              `  finding    workflow ${noted?.Workflow?.Status ?? '(none)'}, note by ${noted?.Note?.UpdatedBy ?? '(nobody)'}: ${noted?.Note?.Text ?? '(none)'} (read back from Security Hub)`,
            ]),
          );
        }
        const delivered = await resultEvents(factory, resources.queueUrl);
        say(`  event      ${delivered.length} "Riposte Remediation Result" event${delivered.length === 1 ? '' : 's'} delivered through EventBridge to SQS`);
        const correlated = logs.entries.filter((entry) => entry.attributes.correlationId === 'demo-enforce').length;
        say(`  logs       ${correlated} structured log lines carry correlation id demo-enforce`);
        say();
      } finally {
        await emulator.stop();
        say('Emulator stopped.');
      }
    });
}
