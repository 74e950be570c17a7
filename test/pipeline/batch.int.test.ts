import { CreateTagsCommand, DescribeInstanceAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { compromisedInstance, eventFor, pipelineLab, playbooksFromYaml, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };
const FIXTURE_INSTANCE = 'i-0a1b2c3d4e5f60718';
const MISSING_INSTANCE = 'i-0fedcba9876543210';

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/**
 * Two playbooks for the same GuardDuty finding. The first (higher priority)
 * starts with an SSM command that exits 1 on the instance (the emulator
 * launcher's test device, docs/emulator.md), so that step fails for real —
 * the failure this test needs.
 */
const playbooks = (): ReturnType<typeof playbooksFromYaml> =>
  playbooksFromYaml(`
- id: collect-then-protect
  title: Collect, then protect
  priority: 10
  triggers: { automatic: true }
  match: { product.id: guardduty, resource.type: AwsEc2Instance }
  steps:
    - ssm.run-command: { commands: ["uname -a", "#riposte-emulator: exit 1"] }
    - ec2.enable-termination-protection: {}
- id: collect-best-effort
  title: Collect if possible, protect anyway
  priority: 5
  triggers: { automatic: true }
  match: { product.id: guardduty, resource.type: AwsEc2Instance }
  steps:
    - ssm.run-command: { commands: ["uname -a", "#riposte-emulator: exit 1"] }
      continueOnError: true
    - ec2.enable-termination-protection: {}
`);

describe('a batch', () => {
  it('stops a playbook at its failed step unless continueOnError, runs the next playbook, and never lets one finding drop the others', async () => {
    lab = await pipelineLab({ playbooks: playbooks(), settings: { automatic: 'enforce', concurrency: 2 } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    // A node Systems Manager reaches, as the launcher knows one.
    await lab.clients.create(EC2Client, target).send(new CreateTagsCommand({ Resources: [instance.instanceId], Tags: [{ Key: 'riposte-emulator:ssm-ping-status', Value: 'Online' }] }));
    // One event, two findings: the instance that exists, and one that does not.
    const event = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER) as { detail: { findings: Array<Record<string, unknown>> } };
    const [found] = event.detail.findings;
    const text = JSON.stringify(found);
    event.detail.findings = [
      JSON.parse(text.replaceAll(FIXTURE_INSTANCE, instance.instanceId)) as Record<string, unknown>,
      JSON.parse(text.replaceAll(FIXTURE_INSTANCE, MISSING_INSTANCE).replaceAll('5a82ee9adccd84d14d108fae10cd4bb8', 'missing-instance-finding')) as Record<string, unknown>,
    ];

    const result = await lab.pipeline.handleEvent(event);

    expect(result.findings).toHaveLength(2);
    const [real, missing] = result.findings;
    // The real instance: the first playbook stops at its failed step; the second carries on past it.
    expect(real?.runs.map((run) => [run.playbookId, run.status, run.workflowStatus])).toEqual([
      ['collect-then-protect', 'failed', 'NOTIFIED'],
      ['collect-best-effort', 'failed', 'NOTIFIED'],
    ]);
    const strict = (await lab.ledger.getRun(real?.runs[0]?.runId as string)) as RunRecord;
    // Its command fails on the instance, so nothing after it runs.
    expect(strict.steps.map((step) => `${step.action}:${step.phase}:${step.status}`)).toEqual([
      'ssm.run-command:plan:changed',
      'ec2.enable-termination-protection:plan:changed',
      'ssm.run-command:run:failed',
      'ec2.enable-termination-protection:run:skipped',
    ]);
    expect(strict.steps[2]?.error?.code).toBe('SSM_COMMAND_FAILED');
    const lenient = (await lab.ledger.getRun(real?.runs[1]?.runId as string)) as RunRecord;
    expect(lenient.steps.filter((step) => step.phase === 'run').map((step) => `${step.action}:${step.status}`)).toEqual(['ssm.run-command:failed', 'ec2.enable-termination-protection:changed']);
    const termination = await lab.clients.create(EC2Client, target).send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
    expect(termination.DisableApiTermination?.Value).toBe(true);

    // The missing instance: said what and where, recorded, nothing changed.
    for (const run of missing?.runs ?? []) {
      expect(run.status).toBe('skipped');
      // Issue 11: a finding naming an instance AWS does not show is stale (it was "tags unreadable" before).
      expect(run.guard?.code).toBe('target-stale');
      expect(run.summary).toContain(MISSING_INSTANCE);
      expect(((await lab.ledger.getRun(run.runId as string)) as RunRecord).status).toBe('skipped');
    }
    expect(missing?.runs).toHaveLength(2);
    // No finding was marked RESOLVED: nothing was fixed and verified.
    expect(lab.findingUpdates().map((update) => update.Workflow?.Status)).not.toContain('RESOLVED');
    // Read back from Security Hub: the real instance's finding is NOTIFIED with the last of its runs' notes; the missing one's is not RESOLVED either.
    const heldReal = await readEventFinding(event, 0);
    expect(heldReal?.Workflow?.Status).toBe('NOTIFIED');
    expect(heldReal?.Note).toMatchObject({ UpdatedBy: RIPOSTE_NOTE_AUTHOR, Text: expect.stringContaining(`[riposte run ${real?.runs[1]?.runId as string} playbook collect-best-effort]`) });
    const heldMissing = await readEventFinding(event, 1);
    expect(heldMissing?.Workflow?.Status).toBe('NEW');
    expect(heldMissing?.Note?.Text).toContain(MISSING_INSTANCE);
  });

  it('logs the first 20 of 85,000 empty findings in one event one by one, then one line counting the rest (issue 11: 34 MB of logs before)', async () => {
    lab = await pipelineLab();
    const event = eventFor('securityhub-imported-cis-password-policy.json', '222222222222');
    (event.detail as { findings: unknown[] }).findings = Array.from({ length: 85_000 }, () => ({}));

    const result = await lab.pipeline.handleEvent(event);

    expect(result.rejected).toHaveLength(85_000);
    const rejectionLines = lab.logs.entries.filter((entry) => entry.message.startsWith('finding rejected by intake'));
    expect(rejectionLines).toHaveLength(21);
    expect(rejectionLines.at(-1)).toMatchObject({ message: 'finding rejected by intake: 84980 more not logged one by one', attributes: { notLogged: 84_980, total: 85_000 } });
    expect(JSON.stringify(lab.logs.entries).length).toBeLessThan(100_000);
  });

  it('reports an event it cannot read with what and where, and carries on with the findings it can', async () => {
    lab = await pipelineLab({ playbooks: playbooks(), settings: { automatic: 'plan' } });
    const broken = await lab.pipeline.handleEvent('{"detail-type": "Security Hub Findings - Imported"');
    expect(broken.error).toMatchObject({ code: expect.stringMatching(/^INTAKE_/) });
    expect(broken.findings).toEqual([]);

    const event = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER) as { detail: { findings: unknown[] } };
    event.detail.findings = [...event.detail.findings, { Id: 'half-a-finding' }];
    const partial = await lab.pipeline.handleEvent(event);
    expect(partial.rejected).toHaveLength(1);
    expect(partial.rejected[0]?.context).toMatchObject({ findingIndex: 1 });
    expect(partial.findings).toHaveLength(1);
  });
});
