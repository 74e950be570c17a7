import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { registerRunsCommand } from '../../src/cli/runs-command.js';
import { parseSince } from '../../src/cli/since.js';
import { readApiRequest, readEvent, type Finding } from '../../src/intake/index.js';
import { FileRunLedger, LISTED_RUN_FIELDS, type MatchedCondition, type RunOutcome, type RunRecord, type StepRecord, type TerminalRunStatus } from '../../src/ledger/index.js';
import { recordStatusRunId, runRecordStatus, type RecordingReport } from '../../src/pipeline/record/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';
import { runRegistered } from './registered.js';

const runs = (args: readonly string[]) => runRegistered(registerRunsCommand, ['runs', ...args]);
const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-runs-'));

/** The finding as the pipeline stores it in the run record: without its raw copy (that is `receivedEvent`). */
function stored(finding: Finding): Omit<Finding, 'raw'> {
  const { raw: _raw, ...rest } = finding;
  return rest;
}

const only = <T>(items: readonly T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};

const cisFinding = (): Finding => only(readEvent(fixtureText('securityhub-imported-cis-password-policy.json'), { origin: 'test' }).findings);

interface RecordedRun {
  readonly runId: string;
  readonly finding: Finding;
  readonly playbookId: string;
  readonly at: string;
  readonly steps?: readonly Omit<StepRecord, 'at'>[];
  readonly status?: TerminalRunStatus;
  readonly outcome?: RunOutcome;
  readonly matched?: readonly MatchedCondition[];
}

/**
 * A run written through the file ledger's own API, as the pipeline writes
 * one: started at `at`, moved through its stages, its steps appended,
 * finished — each write a second after the one before.
 */
async function recordRun(directory: string, run: RecordedRun): Promise<RunRecord> {
  let next = Date.parse(run.at);
  const tick = (): Date => {
    next += 1000;
    return new Date(next - 1000);
  };
  const ledger = new FileRunLedger(directory, { clock: tick });
  let record = await ledger.startRun({
    runId: run.runId,
    correlationId: `corr-${run.runId}`,
    findingId: run.finding.id,
    ...(run.finding.updatedAt === undefined ? {} : { findingUpdatedAt: run.finding.updatedAt }),
    playbookId: run.playbookId,
    account: run.finding.account,
    region: run.finding.region,
    trigger: run.finding.trigger.kind,
    mode: 'enforce',
    receivedEvent: run.finding.raw,
    finding: stored(run.finding),
    attempt: 1,
    ...(run.matched === undefined ? {} : { matched: run.matched }),
  });
  record = await ledger.advanceRun(run.runId, { stage: 'guarded' }, record.version);
  record = await ledger.advanceRun(run.runId, { stage: 'planned' }, record.version);
  for (const step of run.steps ?? []) {
    const moveTo = step.phase === 'run' ? ({ stage: 'executing', step: step.index } as const) : step.phase === 'verify' ? ({ stage: 'verifying' } as const) : undefined;
    // The step's record and the move it causes are one write, at one time: the step is shown first.
    record = await ledger.appendStep(run.runId, { ...step, at: tick().toISOString() }, record.version, moveTo);
  }
  if (run.status !== undefined) record = await ledger.finishRun(run.runId, run.status, run.outcome ?? { summary: run.status }, record.version);
  return record;
}

const recorded: RecordingReport = {
  note: { status: 'done', detail: 'note and workflow RESOLVED on 1 finding' },
  notification: { status: 'done', detail: 'message 5f1c2e0a published to riposte-notifications' },
  event: { status: 'done', detail: 'event 0d7e on riposte' },
};

const passwordPolicySteps: Omit<StepRecord, 'at'>[] = [
  {
    index: 0,
    action: 'iam.set-password-policy',
    phase: 'plan',
    status: 'changed',
    summary: 'account 111122223333: would set MinimumPasswordLength 8 -> 14',
    changes: [{ field: 'MinimumPasswordLength', from: 8, to: 14 }],
  },
  {
    index: 0,
    action: 'iam.set-password-policy',
    phase: 'run',
    status: 'changed',
    summary: 'password policy set: MinimumPasswordLength',
    changes: [{ field: 'MinimumPasswordLength', from: 8, to: 14 }],
    undo: { previous: { MinimumPasswordLength: 8, RequireNumbers: true } },
  },
  { index: 0, action: 'iam.set-password-policy', phase: 'verify', status: 'compliant', summary: 'password policy meets the CIS values', changes: [] },
];

describe('riposte runs (list)', () => {
  it('lists the runs of the file ledger newest first, one line each: id, started, playbook, finding, account/region, mode, status', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    await recordRun(ledger, { runId: 'r-old', finding, playbookId: 'cis-password-policy', at: '2025-03-12T08:00:00.000Z', status: 'succeeded' });
    await recordRun(ledger, { runId: 'r-new', finding, playbookId: 'cis-password-policy', at: '2025-03-14T09:15:06.000Z', status: 'failed' });
    await recordRun(ledger, { runId: 'r-mid', finding, playbookId: 'cis-password-policy', at: '2025-03-13T10:00:00.000Z' });

    const result = await runs(['--ledger', ledger]);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+STARTED\s+PLAYBOOK\s+FINDING\s+WHERE\s+MODE\s+STATUS$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual([
      ['r-new', '2025-03-14T09:15:06.000Z', 'cis-password-policy', finding.id, '111122223333/us-east-1', 'enforce', 'failed'],
      ['r-mid', '2025-03-13T10:00:00.000Z', 'cis-password-policy', finding.id, '111122223333/us-east-1', 'enforce', 'started'],
      ['r-old', '2025-03-12T08:00:00.000Z', 'cis-password-policy', finding.id, '111122223333/us-east-1', 'enforce', 'succeeded'],
    ]);
  });

  it('with --since 2025-03-13T00:00:00Z (an ISO time), lists only the runs started since', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    await recordRun(ledger, { runId: 'r-before', finding, playbookId: 'cis-password-policy', at: '2025-03-12T23:59:59.999Z', status: 'succeeded' });
    await recordRun(ledger, { runId: 'r-at', finding, playbookId: 'cis-password-policy', at: '2025-03-13T00:00:00.000Z', status: 'succeeded' });

    const result = await runs(['--ledger', ledger, '--since', '2025-03-13T00:00:00Z', '--json']);

    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { runId: string }[]).map((run) => run.runId)).toEqual(['r-at']);
  });

  it('with --since 24h (a duration), lists only the runs of the last day', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString();
    await recordRun(ledger, { runId: 'r-two-days', finding, playbookId: 'cis-password-policy', at: hoursAgo(48), status: 'succeeded' });
    await recordRun(ledger, { runId: 'r-one-hour', finding, playbookId: 'cis-password-policy', at: hoursAgo(1), status: 'succeeded' });

    const result = await runs(['--ledger', ledger, '--since', '24h']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('r-one-hour');
    expect(result.stdout).not.toContain('r-two-days');
  });

  it('with --json, prints an array of run summaries holding the listing fields only (no steps, no event)', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    const written = await recordRun(ledger, {
      runId: 'r-1',
      finding,
      playbookId: 'cis-password-policy',
      at: '2025-03-14T09:15:06.000Z',
      steps: passwordPolicySteps,
      status: 'succeeded',
      outcome: { summary: 'fixed' },
    });

    const result = await runs(['--ledger', ledger, '--json']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        runId: 'r-1',
        createdAt: '2025-03-14T09:15:06.000Z',
        updatedAt: written.updatedAt,
        playbookId: 'cis-password-policy',
        findingId: finding.id,
        account: '111122223333',
        region: 'us-east-1',
        trigger: 'automatic',
        mode: 'enforce',
        status: 'succeeded',
      },
    ]);
    expect(Object.keys((JSON.parse(result.stdout) as object[])[0] as object).sort()).toEqual([...LISTED_RUN_FIELDS].sort());
  });

  it('says "no runs" (exit 0) for a ledger directory that does not exist yet', async () => {
    const result = await runs(['--ledger', join(scratch(), 'never-written')]);

    expect(result).toEqual({ status: 0, stdout: 'no runs\n', stderr: '' });
  });

  it('writes a finding id holding an ESC sequence and a newline as visible escapes, on its own line', async () => {
    const ledger = scratch();
    const event = fixture('securityhub-imported-cis-password-policy.json');
    const findings = (event.detail as { findings: Record<string, unknown>[] }).findings;
    (findings[0] as Record<string, unknown>).Id = 'arn:aws:securityhub:us-east-1:111122223333:finding/x\u001b[2J\nFORGED';
    const finding = only(readEvent(JSON.stringify(event), { origin: 'test' }).findings);
    await recordRun(ledger, { runId: 'r-hostile', finding, playbookId: 'cis-password-policy', at: '2025-03-14T09:15:06.000Z', status: 'succeeded' });

    const result = await runs(['--ledger', ledger]);

    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).not.toMatch(/^FORGED/m);
    expect(result.stdout).toContain('x\\u001b[2J\\nFORGED');
  });
});

describe('riposte runs --id (the timeline)', () => {
  it('shows an automatic run: trigger, why it matched, each step with what it changed and replaced, verification, finding update, notification, outcome', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    const at = '2025-03-14T09:15:06.000Z';
    await recordRun(ledger, {
      runId: 'r-cis',
      finding,
      playbookId: 'cis-password-policy',
      matched: [
        { fact: 'control.id', operator: 'equal', value: '1.9', factValue: '1.9' },
        { fact: 'compliance.status', operator: 'equal', value: 'FAILED', factValue: 'FAILED' },
      ],
      at,
      steps: passwordPolicySteps,
      status: 'succeeded',
      outcome: { summary: 'fixed and verified', workflowStatus: 'RESOLVED', details: { recording: recorded, record: runRecordStatus(recorded.note, 'RESOLVED', at) } },
    });

    const result = await runs(['--ledger', ledger, '--id', 'r-cis']);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^run {8}r-cis: succeeded$/m);
    expect(out).toMatch(/^playbook {3}cis-password-policy$/m);
    expect(out).toContain(`finding    ${finding.id}\n  title    ${finding.title} (${finding.product.name})`);
    expect(out).toMatch(/^where {6}account 111122223333, us-east-1$/m);
    expect(out).toMatch(/^trigger {4}automatic/m);
    // Why the playbook matched, as the pipeline records it, with the finding's values.
    expect(out).toContain('matched    control.id equal "1.9" (was "1.9")\n           compliance.status equal "FAILED" (was "FAILED")');
    // Stages and steps in time order: a step comes before the stage it leads to.
    const timeline = out.split('\n').filter((line) => /^(\d{4}-|\s{24}\s\s)/.test(line));
    expect(timeline.map((line) => line.slice(26))).toEqual([
      'stage    claimed',
      'stage    guarded',
      'stage    planned',
      'plan     step 1 iam.set-password-policy: changed — account 111122223333: would set MinimumPasswordLength 8 -> 14',
      '    would change MinimumPasswordLength: 8 -> 14',
      'run      step 1 iam.set-password-policy: changed — password policy set: MinimumPasswordLength',
      '    changed MinimumPasswordLength: 8 -> 14',
      '    replaced {"previous":{"MinimumPasswordLength":8,"RequireNumbers":true}}',
      'stage    executing step 1',
      'verify   step 1 iam.set-password-policy: compliant — password policy meets the CIS values',
      'stage    verifying',
      'stage    succeeded',
    ]);
    expect(out).toContain(`finding update done: note and workflow RESOLVED on 1 finding, workflow RESOLVED (1 attempt, at ${at})\n`);
    expect(out).toContain('notification done: message 5f1c2e0a published to riposte-notifications\n');
    expect(out).toContain('result event done: event 0d7e on riposte\n');
    expect(out).toMatch(/^outcome {4}succeeded, workflow RESOLVED: fixed and verified \(2025-03-14T09:15:1\d\.000Z\)$/m);
  });

  it('shows the evidence of a step with its digests, and a failed run’s error', async () => {
    const ledger = scratch();
    const finding = only(readEvent(fixtureText('securityhub-imported-guardduty-ec2.json'), { origin: 'test' }).findings);
    const sha256 = 'a'.repeat(64);
    await recordRun(ledger, {
      runId: 'r-isolate',
      finding,
      playbookId: 'guardduty-ec2-compromise',
      at: '2025-03-14T09:15:06.000Z',
      steps: [
        {
          index: 0,
          action: 'ec2.capture-metadata',
          phase: 'run',
          status: 'changed',
          summary: 'metadata of i-0abc captured',
          changes: [{ field: 'evidence', from: null, to: 'evidence/111122223333/i-0abc/r-isolate/manifest.json' }],
          evidence: [{ key: 'evidence/111122223333/i-0abc/r-isolate/instance.json', sha256 }],
        },
      ],
      status: 'failed',
      outcome: { summary: 'failed at step 2', error: { name: 'AssumeRoleDeniedError', code: 'ASSUME_ROLE_DENIED', message: 'AccessDenied assuming RiposteMemberRole', retryable: false, context: {} } },
    });

    const result = await runs(['--ledger', ledger, '--id', 'r-isolate']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`    evidence evidence/111122223333/i-0abc/r-isolate/instance.json sha256 ${sha256}\n`);
    expect(result.stdout).toMatch(/^outcome {4}failed: failed at step 2/m);
    expect(result.stdout).toContain('  error    AssumeRoleDeniedError (ASSUME_ROLE_DENIED): AccessDenied assuming RiposteMemberRole\n');
  });

  it('names the custom action (id and name) that triggered a run', async () => {
    const ledger = scratch();
    const finding = only(readEvent(fixtureText('securityhub-custom-action.json'), { origin: 'test' }).findings);
    expect(finding.trigger.kind).toBe('custom-action');
    await recordRun(ledger, { runId: 'r-custom', finding, playbookId: 'cis-password-policy', at: '2025-03-14T09:15:06.000Z' });

    const result = await runs(['--ledger', ledger, '--id', 'r-custom']);

    expect(result.status).toBe(0);
    const trigger = finding.trigger as Extract<Finding['trigger'], { kind: 'custom-action' }>;
    expect(result.stdout).toContain(`trigger    custom action ${trigger.actionId} ("${trigger.actionName}") ${trigger.actionArn}\n`);
    expect(result.stdout).toMatch(/^outcome {4}not ended yet \(planned, updated /m);
  });

  it('names who asked for an on-demand API run, from where, and why', async () => {
    const ledger = scratch();
    const body = fixture('api-request.json');
    const finding = only(readApiRequest(body, { principal: 'arn:aws:iam::123456789012:user/alice', sourceIp: '203.0.113.7' }).findings);
    await recordRun(ledger, { runId: 'r-api', finding, playbookId: 'guardduty-ec2-compromise', at: '2025-03-14T09:15:06.000Z', status: 'succeeded' });

    const result = await runs(['--ledger', ledger, '--id', 'r-api']);

    expect(result.status).toBe(0);
    const trigger = finding.trigger as Extract<Finding['trigger'], { kind: 'api' }>;
    expect(result.stdout).toContain(`trigger    API request ${trigger.requestId} by arn:aws:iam::123456789012:user/alice (203.0.113.7)`);
    if (trigger.reason !== undefined) expect(result.stdout).toContain(`  reason   "${trigger.reason}"`);
  });

  it('says when a record retry settled the finding update after the run ended (the <runId>.record run)', async () => {
    const ledger = scratch();
    const finding = cisFinding();
    const at = '2025-03-14T09:15:06.000Z';
    const failedNote: RecordingReport = {
      ...recorded,
      note: { status: 'failed', error: { name: 'ThrottlingException', code: 'UNEXPECTED', message: 'Rate exceeded', retryable: true, context: {} }, retry: { delaySeconds: 60 } },
    };
    await recordRun(ledger, {
      runId: 'r-late',
      finding,
      playbookId: 'cis-password-policy',
      at,
      steps: passwordPolicySteps,
      status: 'succeeded',
      outcome: { summary: 'fixed and verified', details: { recording: failedNote, record: runRecordStatus(failedNote.note, 'RESOLVED', at) } },
    });
    // What the record retry writes beside the run once the note landed (src/pipeline/record/record-retry.ts, settle).
    const settled = { securityHub: 'done', detail: 'note and workflow RESOLVED on 1 finding, attempt 2', workflow: 'RESOLVED', attempts: 2, at: '2025-03-14T09:16:10.000Z' } as const;
    const retries = new FileRunLedger(ledger, { clock: () => new Date(settled.at) });
    const retry = await retries.startRun({
      runId: recordStatusRunId('r-late'),
      correlationId: 'corr-retry',
      findingId: finding.id,
      playbookId: 'cis-password-policy',
      account: finding.account,
      region: finding.region,
      trigger: 'automatic',
      mode: 'enforce',
      receivedEvent: {},
      attempt: 2,
    });
    await retries.finishRun(retry.runId, 'succeeded', { summary: 'finding update of run r-late', workflowStatus: 'RESOLVED', details: { recordOf: 'r-late', record: settled } }, retry.version);

    const text = await runs(['--ledger', ledger, '--id', 'r-late']);
    const json = await runs(['--ledger', ledger, '--id', 'r-late', '--json']);

    expect(text.status).toBe(0);
    expect(text.stdout).toContain(
      `finding update done: note and workflow RESOLVED on 1 finding, attempt 2, workflow RESOLVED (2 attempts, at ${settled.at}, settled later by a record retry (the run ended with pending-retry))\n`,
    );
    expect(text.stdout).toContain('note         failed: ThrottlingException: Rate exceeded (retry in 60 s)\n');
    expect(JSON.parse(json.stdout)).toMatchObject({ findingUpdate: settled });
  });

  it('with --json, prints the run record as the ledger stores it, and where the finding update stands', async () => {
    const ledger = scratch();
    const at = '2025-03-14T09:15:06.000Z';
    const written = await recordRun(ledger, {
      runId: 'r-json',
      finding: cisFinding(),
      playbookId: 'cis-password-policy',
      at,
      steps: passwordPolicySteps,
      status: 'succeeded',
      outcome: { summary: 'fixed and verified', workflowStatus: 'RESOLVED', details: { recording: recorded, record: runRecordStatus(recorded.note, 'RESOLVED', at) } },
    });

    const result = await runs(['--ledger', ledger, '--id', 'r-json', '--json']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ run: written, findingUpdate: runRecordStatus(recorded.note, 'RESOLVED', at) });
  });

  it('exits 2 with one clear line for an unknown run id (r-nosuch)', async () => {
    const ledger = scratch();

    const result = await runs(['--ledger', ledger, '--id', 'r-nosuch']);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`no run r-nosuch in the file ledger ${ledger} (riposte runs lists the runs it holds)\n`);
  });
});

describe('riposte runs, on bad usage', () => {
  it('exits 2 for --since yesterday (neither an ISO time nor a duration)', async () => {
    const result = await runs(['--ledger', scratch(), '--since', 'yesterday']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "error: option '--since <when>' argument 'yesterday' is invalid. an ISO 8601 time (2025-03-14T09:00:00Z) or a duration back from now (90m, 24h, 7d, 2w) is expected.",
    );
  });

  it('exits 2 for --ledger with --table (one ledger at a time)', async () => {
    const result = await runs(['--ledger', scratch(), '--table', 'riposte-ledger']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: option '--ledger <dir>' cannot be used with option '--table <name>'");
  });

  it('exits 2 for --endpoint without --table', async () => {
    const result = await runs(['--ledger', scratch(), '--endpoint', 'http://127.0.0.1:5000']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('error: --region and --endpoint apply to a DynamoDB ledger: give --table too');
  });

  it('exits 2 for --endpoint ftp://example.com and --region mars-1', async () => {
    const endpoint = await runs(['--table', 't', '--endpoint', 'ftp://example.com']);
    const region = await runs(['--table', 't', '--region', 'mars-1']);

    expect(endpoint.status).toBe(2);
    expect(endpoint.stderr).toContain("argument 'ftp://example.com' is invalid. an http(s) URL such as http://127.0.0.1:5000 is expected.");
    expect(region.status).toBe(2);
    expect(region.stderr).toContain("argument 'mars-1' is invalid. an AWS region such as us-east-1 is expected.");
  });

  it('exits 2 for --id with --since (a timeline is one run)', async () => {
    const result = await runs(['--ledger', scratch(), '--id', 'r-1', '--since', '24h']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cannot be used with option '--id <run-id>'");
  });

  it('--help says where the file ledger is by default and what --since takes', async () => {
    const result = await runs(['--help']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('.riposte/ledger');
    expect(result.stdout).toContain('--since <when>');
    expect(result.stdout).toContain('--table <name>');
  });
});

describe('parseSince', () => {
  const now = new Date('2025-03-14T12:00:00.000Z');

  it('reads durations back from now: 90m, 24h, 7d, 2w', () => {
    expect(parseSince('90m', now).toISOString()).toBe('2025-03-14T10:30:00.000Z');
    expect(parseSince('24h', now).toISOString()).toBe('2025-03-13T12:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2025-03-07T12:00:00.000Z');
    expect(parseSince('2w', now).toISOString()).toBe('2025-02-28T12:00:00.000Z');
  });

  it('reads ISO 8601 times: a date, a UTC time, an offset', () => {
    expect(parseSince('2025-03-13', now).toISOString()).toBe('2025-03-13T00:00:00.000Z');
    expect(parseSince('2025-03-13T09:00:00Z', now).toISOString()).toBe('2025-03-13T09:00:00.000Z');
    expect(parseSince('2025-03-13T09:00:00+02:00', now).toISOString()).toBe('2025-03-13T07:00:00.000Z');
  });

  it('refuses 3/4/2025, 24 hours, 2025-13-45 and an empty value', () => {
    for (const value of ['3/4/2025', '24 hours', '2025-13-45', '']) expect(() => parseSince(value, now)).toThrow(/ISO 8601/);
  });
});
