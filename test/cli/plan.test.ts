import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { replayCorpus } from '../../bench/replay-corpus.js';
import type { ReplaySummary, ShadowFinding } from '../../src/pipeline/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';
import { riposte } from './run-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'riposte-plan-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface PlanDocument {
  readonly automatic: string;
  readonly findings: ShadowFinding[];
  readonly unreadable: Array<{ origin: string; error: string }>;
  readonly summary: ReplaySummary;
}

const planJson = async (args: readonly string[], stdin = ''): Promise<{ status: number | null; document: PlanDocument; stderr: string }> => {
  const result = await riposte(['plan', '--json', ...args], stdin);
  return { status: result.status, document: JSON.parse(result.stdout) as PlanDocument, stderr: result.stderr };
};

describe('riposte plan: one event', () => {
  it('shows the finding, the playbook it matches and why, and its steps; nothing is read from AWS', async () => {
    const result = await riposte(['plan', '--event', 'test/fixtures/events/guardduty-ec2-backdoor.json']);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('guardduty 5a82ee9adccd84d14d108fae10cd4bb8');
    expect(result.stdout).toContain('act        ec2-compromise-isolate: automatic remediation is enforced in this deployment');
    expect(result.stdout).toContain('because  product.id equal "guardduty" (was "guardduty")');
    expect(result.stdout).toContain('step 4   ec2.isolate {"allowAllFirst":true,"ssmEndpoints":true} (beside the step before)');
    expect(result.stdout).toContain('step 9   ssm.collect-evidence {"instanceProfile":"RiposteForensicCollection",');
    expect(result.stdout).toContain('Replayed 1 finding with automatic: enforce');
  });

  it('--automatic plan: the same finding is planned, not acted on; a sample finding is planned whatever the setting', async () => {
    const planned = await planJson(['--automatic', 'plan', '--event', 'test/fixtures/events/guardduty-ec2-backdoor.json']);
    const sample = await planJson(['--event', 'test/fixtures/events/guardduty-ec2-sample.json']);

    expect(planned.document.findings[0]?.playbooks.map((playbook) => playbook.decision)).toEqual(['plan']);
    expect(sample.document.findings[0]?.playbooks[0]).toMatchObject({ decision: 'plan', reason: expect.stringContaining('sample') });
  });

  it('a bare ASFF finding (as GetFindings exports it) is read as Security Hub delivers it: the same plan as its event', async () => {
    const event = fixture<{ detail: { findings: unknown[] } }>('securityhub-imported-open-ssh.json');
    const bare = join(directory, 'bare.json');
    writeFileSync(bare, JSON.stringify({ Findings: event.detail.findings }));

    const fromEvent = await planJson(['--event', 'test/fixtures/events/securityhub-imported-open-ssh.json']);
    const fromBare = await planJson(['--event', bare]);

    expect(fromBare.status, fromBare.stderr).toBe(0);
    expect(fromBare.document.findings).toEqual(fromEvent.document.findings);
    expect(fromBare.document.findings[0]?.playbooks.map((playbook) => playbook.playbook)).toEqual(['revoke-unrestricted-admin-ingress']);
  });

  it('skips, with the reason, an account the deployment excludes (--exclude-account)', async () => {
    const { document } = await planJson(['--exclude-account', '111122223333', '--event', 'test/fixtures/events/guardduty-ec2-backdoor.json']);

    expect(document.findings[0]?.playbooks[0]).toMatchObject({ decision: 'skip', reason: 'account 111122223333 is excluded from remediation in this deployment' });
  });
});

describe('riposte plan: shadow replay', () => {
  it('over a generated corpus of 400 findings (NDJSON), the summary counts what the per-finding plans say', async () => {
    const file = join(directory, 'corpus.ndjson');
    writeFileSync(file, replayCorpus(400, 20, 11));

    const { status, document, stderr } = await planJson(['--event', file]);

    expect(status, stderr).toBe(0);
    expect(document.unreadable).toEqual([]);
    const { summary, findings } = document;
    expect(summary.findings).toBe(400);
    expect(findings).toHaveLength(400);
    expect(summary.unmatched).toBe(findings.filter((finding) => finding.playbooks.length === 0).length);
    expect(summary.unmatchedFindings).toEqual(findings.filter((finding) => finding.playbooks.length === 0).map((finding) => finding.id));
    const ids = [...new Set(findings.flatMap((finding) => finding.playbooks.map((playbook) => playbook.playbook)))].sort();
    expect(summary.playbooks.map((replay) => replay.playbook)).toEqual(ids);
    for (const replay of summary.playbooks) {
      const decisions = findings.flatMap((finding) => finding.playbooks.filter((playbook) => playbook.playbook === replay.playbook).map((playbook) => ({ finding, playbook })));
      const of = (decision: string): typeof decisions => decisions.filter(({ playbook }) => playbook.decision === decision);
      expect(replay.matched, replay.playbook).toBe(decisions.length);
      expect(replay.act, replay.playbook).toBe(of('act').length);
      expect(replay.plan, replay.playbook).toBe(of('plan').length);
      expect(
        replay.skipped.map((skip) => skip.finding),
        replay.playbook,
      ).toEqual(of('skip').flatMap(({ finding }) => finding.resources.map(() => finding.id)));
      expect(replay.accounts, replay.playbook).toEqual([...new Set([...of('act'), ...of('plan')].map(({ finding }) => finding.account))].sort());
      expect(replay.resources, replay.playbook).toEqual([...new Set(of('act').flatMap(({ finding }) => finding.resources))].sort());
    }
    // The corpus has closed findings, samples and unmatched products: every kind of decision occurs.
    const all = findings.flatMap((finding) => finding.playbooks.map((playbook) => playbook.decision));
    expect(new Set(all)).toEqual(new Set(['act', 'plan', 'skip']));
    expect(summary.unmatched).toBeGreaterThan(0);
  });

  it('reads a directory of events and NDJSON from standard input', async () => {
    const fromDirectory = await planJson(['--event', 'test/fixtures/events']);
    const fromStdin = await planJson(['--event', '-'], `${JSON.stringify(JSON.parse(fixtureText('guardduty-ec2-backdoor.json')))}\n`);

    expect(fromDirectory.document.summary.findings).toBeGreaterThan(10);
    expect(fromStdin.document.summary.playbooks.map((replay) => [replay.playbook, replay.act])).toEqual([['ec2-compromise-isolate', 1]]);
  });
});

describe('riposte plan: bad input', () => {
  it('lists a line that is not JSON and an event intake refuses, plans the rest, and exits 2', async () => {
    const file = join(directory, 'mixed.ndjson');
    writeFileSync(file, `${JSON.stringify(JSON.parse(fixtureText('guardduty-ec2-backdoor.json')))}\n{ not json\n{"source":"aws.nothing"}\n`);

    const { status, document } = await planJson(['--event', file]);

    expect(status).toBe(2);
    expect(document.summary.findings).toBe(1);
    expect(document.unreadable.map((item) => item.origin)).toEqual([`${file}:2`, `${file}:3`]);
    expect(document.unreadable[0]?.error).toMatch(/^is not JSON/);
  });

  it('exits 2 naming a missing source, a bad --automatic, and a missing --event', async () => {
    const missing = await riposte(['plan', '--event', 'no/such/file.json']);
    const automatic = await riposte(['plan', '--automatic', 'always', '--event', 'test/fixtures/events/guardduty-ec2-backdoor.json']);
    const noEvent = await riposte(['plan']);

    expect(missing).toMatchObject({ status: 2, stderr: 'FileNotFoundError: no/such/file.json: no such file (ENOENT)\n' });
    expect(automatic.status).toBe(2);
    expect(automatic.stderr).toContain('--automatic must be off, plan or enforce');
    expect(noEvent.status).toBe(2);
    expect(noEvent.stderr).toContain('give --event <source> or --from-security-hub');
  });

  it('exits 2 for a malformed --region or --endpoint, as the other commands do, before any AWS call', async () => {
    const badRegion = await riposte(['plan', '--from-security-hub', '--region', 'mars-1']);
    const badEndpoint = await riposte(['run', '--event', 'test/fixtures/events/guardduty-ec2-backdoor.json', '--endpoint', 'ftp://127.0.0.1:9']);

    expect(badRegion.status).toBe(2);
    expect(badRegion.stderr).toContain('an AWS region such as us-east-1 is expected');
    expect(badEndpoint.status).toBe(2);
    expect(badEndpoint.stderr).toContain('an http(s) URL such as http://127.0.0.1:5000 is expected');
  });
});
