import { UpdateAccountPasswordPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { registerRunsCommand } from '../../src/cli/runs-command.js';
import type { ListedRun } from '../../src/ledger/index.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { eventFor, LEDGER_TABLE, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';
import { runRegistered } from './registered.js';

const MEMBER = '222222222222';

let lab: PipelineLab | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await lab?.close();
  lab = undefined;
});

/** `riposte runs … --table <the lab's ledger> --endpoint <the emulator>`, with credentials from the environment (the SDK's usual chain), as a user would give them. */
function runsOnTable(args: readonly string[]) {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  return runRegistered(registerRunsCommand, ['runs', '--table', LEDGER_TABLE, '--endpoint', emulatorEndpoint(), '--region', 'us-east-1', ...args]);
}

describe('riposte runs --table (a DynamoDB ledger, on the emulator)', () => {
  it('lists the CIS run the pipeline recorded, and shows its timeline: the change 8 -> 14, what it replaced, verification, the finding update RESOLVED', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await lab.clients
      .create(IAMClient, { account: MEMBER, region: 'us-east-1', partition: 'aws', correlationId: 'setup' })
      .send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
    const result = await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER), { correlationId: 'corr-runs-cli' });
    const runId = result.findings[0]?.runs[0]?.runId as string;

    const list = await runsOnTable(['--json']);
    const timeline = await runsOnTable(['--id', runId]);
    const unknown = await runsOnTable(['--id', 'r-nosuch']);

    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout) as ListedRun[]).toEqual([
      expect.objectContaining({ runId, playbookId: 'cis-password-policy', account: MEMBER, mode: 'enforce', status: 'succeeded', trigger: 'automatic' }),
    ]);
    expect(timeline.stderr).toBe('');
    expect(timeline.status).toBe(0);
    expect(timeline.stdout).toMatch(new RegExp(`^run {8}${runId}: succeeded$`, 'm'));
    expect(timeline.stdout).toMatch(/^trigger {4}automatic/m);
    expect(timeline.stdout).toMatch(/^\S+ {2}run {6}step 1 iam\.set-password-policy: changed/m);
    expect(timeline.stdout).toMatch(/^ +changed MinimumPasswordLength: 8 -> 14$/m);
    expect(timeline.stdout).toMatch(/^ +replaced \{"previous":\{.*"MinimumPasswordLength":8/m);
    expect(timeline.stdout).toMatch(/^\S+ {2}verify {3}step 1 iam\.set-password-policy: compliant/m);
    expect(timeline.stdout).toMatch(/^finding update done: .*workflow RESOLVED/m);
    expect(timeline.stdout).toMatch(/^notification done: /m);
    expect(timeline.stdout).toMatch(/^outcome {4}succeeded, workflow RESOLVED: /m);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(`no run r-nosuch in the DynamoDB table ${LEDGER_TABLE} (riposte runs lists the runs it holds)\n`);
  });
});
