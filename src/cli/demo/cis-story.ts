import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { builtInActions } from '../../actions/index.js';
import type { AwsClientFactory, MemberClients } from '../../aws/index.js';
import type { Config } from '../../config.js';
import { IndexedMatcher } from '../../engine/index.js';
import { readEvent } from '../../intake/index.js';
import { DynamoDbRunLedger } from '../../ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../../log/index.js';
import { assemblePipeline, MemoryResumeQueue, type PlaybookRunResult } from '../../pipeline/index.js';
import type { CompiledPlaybook } from '../../playbooks/index.js';
import { describeFinding, describeMatch, terminalLines } from '../format.js';
import { findingState, passwordPolicy } from './readback.js';
import { ACCOUNT_A, type Hosting } from './world.js';

/** Everything the stories share: the emulator's clients, the deployment's resources and configuration, the playbooks, a line printer. */
export interface DemoScene {
  readonly root: string;
  readonly endpoint: string;
  readonly factory: AwsClientFactory;
  readonly clients: MemberClients;
  readonly hosting: Hosting;
  readonly config: Config;
  readonly playbooks: readonly CompiledPlaybook[];
  /** Prints one line (give it text from a finding only through `terminalLines`). */
  readonly say: (line?: string) => void;
}

export const examplePath = (scene: DemoScene, name: string): string => join(scene.root, 'examples', 'events', name);

/** A run as the demo prints it: status, each step record, what was recorded. */
export function describeRun(run: PlaybookRunResult): string {
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

async function resultEvents(factory: AwsClientFactory, queueUrl: string): Promise<unknown[]> {
  const { Messages } = await factory.create(SQSClient).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
  return (Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null') as unknown);
}

/** Intake and matching, with the reasons, for the two examples a reader meets first. */
export async function intakeStory(scene: DemoScene): Promise<void> {
  const { say } = scene;
  const matcher = new IndexedMatcher(scene.playbooks);
  for (const name of ['securityhub-cis-password-policy-failed.json', 'guardduty-ec2-backdoor.json']) {
    const result = readEvent(await readFile(examplePath(scene, name), 'utf8'), { origin: name });
    say(`examples/events/${name}:`);
    for (const finding of result.findings) {
      say(describeFinding(finding));
      const matches = await matcher.match(finding);
      if (matches.length === 0) say('  matched    no playbook');
      for (const match of matches) say(describeMatch(match));
    }
    say();
  }
}

/**
 * The CIS story end to end, through the pipeline a deployment runs (a
 * DynamoDB ledger, SNS and EventBridge records, all on the emulator):
 * first as a deployment starts (automatic: plan), then enforced, then the
 * same event again (a duplicate).
 */
export async function cisStory(scene: DemoScene): Promise<void> {
  const { say, factory, hosting, config } = scene;
  const logs = new MemoryLogSink();
  const logger = new RiposteLogger({ logLevel: 'debug', stream: logs });
  const parts = { factory, playbooks: scene.playbooks, logger, registry: builtInActions(), resumeQueue: new MemoryResumeQueue() };
  const event = JSON.parse(await readFile(examplePath(scene, 'securityhub-cis-password-policy-failed.json'), 'utf8')) as { detail: { findings: AwsSecurityFinding[] } };
  // The finding exists in Security Hub (the emulator's, which implements BatchUpdateFindings), so the run's note can land and be read back.
  await factory.create(SecurityHubClient).send(new BatchImportFindingsCommand({ Findings: event.detail.findings }));
  const [imported] = event.detail.findings;
  const policy = (): Promise<string> => passwordPolicy(scene.clients, ACCOUNT_A);

  say(`Member account ${ACCOUNT_A} password policy: ${await policy()}`);
  say('Delivering the CIS finding with automatic remediation plan-only (the default):');
  const planned = await assemblePipeline({ ...config, automatic: 'plan' }, parts).handleEvent(event, { correlationId: 'demo-plan' });
  for (const run of planned.findings.flatMap((finding) => finding.runs)) say(describeRun(run));
  say(`  read back  ${await policy()} (unchanged)`);
  say();

  say('Delivering it again with automatic remediation enforced:');
  const enforcing = assemblePipeline({ ...config, automatic: 'enforce' }, parts);
  const enforced = await enforcing.handleEvent(event, { correlationId: 'demo-enforce' });
  const runs = enforced.findings.flatMap((finding) => finding.runs);
  for (const run of runs) say(describeRun(run));
  say(`  read back  ${await policy()}`);
  const again = await enforcing.handleEvent(event, { correlationId: 'demo-again' });
  for (const run of again.findings.flatMap((finding) => finding.runs)) say(terminalLines([`  again      ${run.status}: ${run.summary}`]));
  const runId = runs[0]?.runId;
  if (runId !== undefined) {
    const ledger = new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), hosting.table);
    const record = await ledger.getRun(runId);
    say(`  ledger     run ${runId}: ${record?.status}, ${record?.steps.length} step records, outcome ${record?.outcome?.workflowStatus ?? '(no status)'} (DynamoDB table ${hosting.table})`);
  }
  if (imported?.Id !== undefined && imported.ProductArn !== undefined) {
    const state = await findingState(factory, imported.Id, imported.ProductArn);
    say(terminalLines([`  finding    workflow ${state.workflow}, note ${state.note} (read back from Security Hub)`]));
  }
  const delivered = await resultEvents(factory, hosting.resultQueueUrl);
  say(`  event      ${delivered.length} "Riposte Remediation Result" event${delivered.length === 1 ? '' : 's'} delivered through EventBridge to SQS`);
  const correlated = logs.entries.filter((entry) => entry.attributes.correlationId === 'demo-enforce').length;
  say(`  logs       ${correlated} structured log lines carry correlation id demo-enforce`);
  say();
}
