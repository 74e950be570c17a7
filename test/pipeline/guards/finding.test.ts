import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { riposteNoteText } from '../../../src/actions/finding-update.js';
import { readEvent, type Finding } from '../../../src/intake/index.js';
import { FileRunLedger } from '../../../src/ledger/index.js';
import { findingSkip, isOwnUpdate, type KnownRun } from '../../../src/pipeline/guards/finding.js';
import { newRunId } from '../../../src/pipeline/run-id.js';
import { fixture } from '../../support/fixtures.js';
import { newRun } from '../../ledger/ledger-contract.js';

/** The run the stored own-note fixtures name (`r-20250314T093105Z-…`: started 09:31:05 UTC). */
const FIXTURE_RUN = 'r-20250314T093105Z-4c1f7a9e2b3d';
/** A run Riposte started at 09:20:00, after the fixtures' provider update (09:15:02.336). */
const LATER_RUN = newRunId(new Date('2025-03-14T09:20:00.000Z'));
/** A run started at 09:10:00, before that update. */
const EARLIER_RUN = newRunId(new Date('2025-03-14T09:10:00.000Z'));

let directory: string;
/** The ledger lookup the pipeline wires in: a real file ledger holding the runs above. */
let knownRun: KnownRun;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-loop-guard-'));
  const ledger = new FileRunLedger(directory);
  for (const runId of [FIXTURE_RUN, LATER_RUN, EARLIER_RUN, 'r-1']) await ledger.startRun(newRun({ runId }));
  knownRun = async (runId) => (await ledger.getRun(runId)) !== undefined;
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const read = (name: string): Finding => readEvent(fixture(name)).findings[0] as Finding;
const with_ = (base: Finding, change: Partial<Finding>): Finding => ({ ...base, ...change });
const cis = (): Finding => read('securityhub-imported-cis-password-policy.json');
const ocsf = (): Finding => read('securityhub-v2-ocsf-compliance.json');
const note = (runId: string, text = 'set password policy'): string => riposteNoteText(runId, 'cis-password-policy', text);

describe('isOwnUpdate, ASFF (issue 11, case 6)', () => {
  it('recognises securityhub-imported-riposte-own-note.json: exact header, author riposte, known run, noted after the provider’s last update', async () => {
    await expect(isOwnUpdate(read('securityhub-imported-riposte-own-note.json'), knownRun)).resolves.toBe(true);
  });

  it('does not take securityhub-imported-riposte-note.json for its own: "Riposte run r-7f3c9a2e1b …" is no header Riposte writes', async () => {
    await expect(isOwnUpdate(read('securityhub-imported-riposte-note.json'), knownRun)).resolves.toBe(false);
  });

  it('is false without a note, or with somebody else’s note', async () => {
    const base = cis();
    await expect(isOwnUpdate(with_(base, { note: undefined }), knownRun)).resolves.toBe(false);
    await expect(isOwnUpdate(with_(base, { note: { text: 'looking into it', updatedBy: 'alice', updatedAt: '2099-01-01T00:00:00Z' } }), knownRun)).resolves.toBe(false);
  });

  it('is false once the provider updated the finding after Riposte’s note (the control failed again)', async () => {
    const base = cis();
    const own = { text: '[riposte run r-1 playbook p] RESOLVED', updatedBy: 'riposte', updatedAt: '2025-03-14T09:00:00Z' };
    await expect(isOwnUpdate(with_(base, { note: own, updatedAt: '2025-03-14T08:59:59Z' }), knownRun)).resolves.toBe(true);
    await expect(isOwnUpdate(with_(base, { note: own, updatedAt: '2025-03-14T09:00:00Z' }), knownRun)).resolves.toBe(true);
    await expect(isOwnUpdate(with_(base, { note: own, updatedAt: '2025-03-14T09:00:01Z' }), knownRun)).resolves.toBe(false);
  });

  it('is false for a crafted UpdatedBy: riposte without Riposte’s header', async () => {
    const crafted = { text: 'riposte: already handled', updatedBy: 'riposte', updatedAt: '2099-01-01T00:00:00Z' };
    await expect(isOwnUpdate(with_(cis(), { note: crafted }), knownRun)).resolves.toBe(false);
  });

  it('is false for a crafted UpdatedBy: riposte with the header of a run the ledger does not know', async () => {
    const crafted = { text: note('r-20250314T093105Z-000000000000'), updatedBy: 'riposte', updatedAt: '2099-01-01T00:00:00Z' };
    await expect(isOwnUpdate(with_(cis(), { note: crafted }), knownRun)).resolves.toBe(false);
  });

  it('is false for Riposte’s header written by somebody else (UpdatedBy: alice)', async () => {
    const copied = { text: note(FIXTURE_RUN), updatedBy: 'alice', updatedAt: '2099-01-01T00:00:00Z' };
    await expect(isOwnUpdate(with_(cis(), { note: copied }), knownRun)).resolves.toBe(false);
  });

  it('never counts a missing or invalid note time as own: the run’s start must prove it', async () => {
    const base = cis(); // UpdatedAt 2025-03-14T09:15:02.336Z
    // The run started before the provider's update: nothing proves the note came after it.
    await expect(isOwnUpdate(with_(base, { note: { text: note(EARLIER_RUN), updatedBy: 'riposte' } }), knownRun)).resolves.toBe(false);
    await expect(isOwnUpdate(with_(base, { note: { text: note(EARLIER_RUN), updatedBy: 'riposte', updatedAt: 'garbage' } }), knownRun)).resolves.toBe(false);
    // A run id with no time in it proves nothing either.
    await expect(isOwnUpdate(with_(base, { note: { text: note('r-1'), updatedBy: 'riposte' } }), knownRun)).resolves.toBe(false);
    // The run started after it: the note, written during the run, did too.
    await expect(isOwnUpdate(with_(base, { note: { text: note(LATER_RUN), updatedBy: 'riposte' } }), knownRun)).resolves.toBe(true);
  });

  it('is false when the finding’s own update time is missing (nothing to compare with)', async () => {
    const own = read('securityhub-imported-riposte-own-note.json');
    await expect(isOwnUpdate(with_(own, { updatedAt: undefined }), knownRun)).resolves.toBe(false);
    await expect(isOwnUpdate(with_(own, { updatedAt: 'yesterday' }), knownRun)).resolves.toBe(false);
  });

  it('never asks the ledger about a run id that is not plain text', async () => {
    const asked: string[] = [];
    const recording: KnownRun = async (runId) => {
      asked.push(runId);
      return knownRun(runId);
    };
    const crafted = { text: '[riposte run ../../etc/passwd playbook p] x', updatedBy: 'riposte', updatedAt: '2099-01-01T00:00:00Z' };
    await expect(isOwnUpdate(with_(cis(), { note: crafted }), recording)).resolves.toBe(false);
    expect(asked).toEqual([]);
  });
});

describe('isOwnUpdate, OCSF (issue 11, case 6)', () => {
  it('recognises securityhub-v2-ocsf-riposte-comment.json: exact header, known run started after modified_time_dt', async () => {
    const finding = read('securityhub-v2-ocsf-riposte-comment.json');
    expect(finding.note).toEqual({ text: note(FIXTURE_RUN) });
    await expect(isOwnUpdate(finding, knownRun)).resolves.toBe(true);
  });

  it('is false for a comment without time after Riposte’s note once the provider updated the finding later', async () => {
    const finding = read('securityhub-v2-ocsf-riposte-comment.json');
    // The control failed again at 10:00: modified_time_dt moves past the run, the comment stays.
    await expect(isOwnUpdate(with_(finding, { updatedAt: '2025-03-14T10:00:00.000Z' }), knownRun)).resolves.toBe(false);
  });

  it('is false for a comment whose run the ledger does not know, or that only mentions riposte', async () => {
    const base = ocsf();
    await expect(isOwnUpdate(with_(base, { note: { text: note('r-20250314T093105Z-000000000000') } }), knownRun)).resolves.toBe(false);
    await expect(isOwnUpdate(with_(base, { note: { text: '[riposte] done' } }), knownRun)).resolves.toBe(false);
    await expect(isOwnUpdate(with_(base, { note: { text: 'riposte did it' } }), knownRun)).resolves.toBe(false);
  });

  it('is false for a comment naming a known run with no time in its id (nothing proves the order)', async () => {
    await expect(isOwnUpdate(with_(ocsf(), { note: { text: note('r-1') } }), knownRun)).resolves.toBe(false);
  });
});

describe('findingSkip', () => {
  it('drops Riposte’s own update only for automatic deliveries: a person asking still runs', async () => {
    const own = read('securityhub-imported-riposte-own-note.json');
    const skip = await findingSkip(own, knownRun);
    expect(skip?.code).toBe('own-update');
    expect(skip?.reason).toContain(FIXTURE_RUN);
    const asked = with_(own, {
      trigger: { kind: 'custom-action', actionId: 'CisPasswordPolicy', actionName: 'CIS password policy', actionArn: 'arn:aws:securityhub:us-east-1:123456789012:action/custom/CisPasswordPolicy' },
    });
    await expect(findingSkip(asked, knownRun)).resolves.toBeUndefined();
  });

  it('lets a crafted UpdatedBy: riposte through to the playbooks', async () => {
    const crafted = with_(cis(), { note: { text: 'riposte: nothing to see', updatedBy: 'riposte', updatedAt: '2099-01-01T00:00:00Z' } });
    await expect(findingSkip(crafted, knownRun)).resolves.toBeUndefined();
  });

  it.each([
    [{ workflow: 'RESOLVED' }, 'RESOLVED'],
    [{ workflow: 'SUPPRESSED' }, 'SUPPRESSED'],
    [{ recordState: 'ARCHIVED' }, 'archived'],
  ] as const)('leaves closed findings alone (%o)', async (change, word) => {
    const skip = await findingSkip(with_(cis(), change), knownRun);
    expect(skip).toMatchObject({ code: 'closed', reason: expect.stringContaining(word) });
  });

  it('lets an active, new finding through', async () => {
    await expect(findingSkip(cis(), knownRun)).resolves.toBeUndefined();
  });
});
