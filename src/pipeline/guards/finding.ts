import { RIPOSTE_COMMENT_MARKER, RIPOSTE_NOTE_AUTHOR } from '../../actions/index.js';
import type { Finding } from '../../intake/index.js';

/** Why a finding is not acted on at all, before any playbook is considered. */
export interface FindingSkip {
  /** `own-update`: the event is Riposte's own note or status coming back; `closed`: resolved, suppressed or archived. */
  readonly code: 'own-update' | 'closed';
  readonly reason: string;
}

/** Whether Riposte's ledger holds a run with this id. */
export type KnownRun = (runId: string) => Promise<boolean>;

/** ISO 8601 as Security Hub writes it; `Date.parse` alone also takes "March 7" in the local zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

const time = (iso: string | undefined): number | undefined => {
  if (iso === undefined || !ISO_TIME.test(iso)) return undefined;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? undefined : value;
};

/**
 * The header of every note Riposte writes (`riposteNoteText` in
 * actions/finding-update.ts): `[riposte run <runId>]` or
 * `[riposte run <runId> playbook <playbookId>]`, then a space and the text.
 * Only run ids of plain characters are looked up in the ledger.
 */
const NOTE_HEADER = /^\[riposte run ([A-Za-z0-9][A-Za-z0-9._:-]{0,127})(?: playbook [^\]\s]+)?\] /;
/** `newRunId`'s ids carry the UTC second the run started: `r-20261124T101500Z-3f9a1c2b4d5e`. */
const RUN_STAMP = /^r-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/;

interface NoteHeader {
  readonly runId: string;
  /** When the run started (to the second), where its id says: Riposte wrote the note no earlier. */
  readonly runStartedAt?: number;
}

function runStart(runId: string): number | undefined {
  const match = RUN_STAMP.exec(runId);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  const at = Date.UTC(year, month - 1, day, hour, minute, second);
  // A stamp that is no real time (month 13 rolls over) is no id newRunId wrote.
  const back = new Date(at);
  return back.getUTCMonth() === month - 1 && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second ? at : undefined;
}

function noteHeader(text: string): NoteHeader | undefined {
  if (!text.startsWith(RIPOSTE_COMMENT_MARKER)) return undefined;
  const runId = NOTE_HEADER.exec(text)?.[1];
  if (runId === undefined) return undefined;
  const runStartedAt = runStart(runId);
  return runStartedAt === undefined ? { runId } : { runId, runStartedAt };
}

/**
 * Whether this delivery is Riposte's own BatchUpdateFindings coming back as
 * a new "Findings - Imported" (or V2) event. Security Hub raises that event
 * for every customer update, and such updates never move the finding's own
 * `UpdatedAt` (OCSF: `modified_time_dt`).
 *
 * Own only when all of these hold, so neither a crafted note nor a missing
 * time can silence a finding:
 * - the note starts with Riposte's exact header, naming a run the ledger
 *   knows (`knownRun`); for ASFF, its author is also {@link RIPOSTE_NOTE_AUTHOR};
 * - the times prove the note came after the provider's last update: the
 *   note's time (ASFF `Note.UpdatedAt`), or, where the note carries none (an
 *   OCSF comment never does) or an invalid one, the start of the run the
 *   header names (its id says when; the note was written no earlier), is at
 *   or after the finding's `updatedAt`. With no valid time on either side
 *   nothing is proven, so it is not own.
 *
 * A provider re-import after the note moves `updatedAt` past it: acted on again.
 */
export async function isOwnUpdate(finding: Finding, knownRun: KnownRun): Promise<boolean> {
  const note = finding.note;
  if (note === undefined) return false;
  if (finding.format !== 'ocsf' && note.updatedBy !== RIPOSTE_NOTE_AUTHOR) return false;
  const header = noteHeader(note.text);
  if (header === undefined) return false;
  const updated = time(finding.updatedAt);
  if (updated === undefined) return false;
  const noted = time(note.updatedAt) ?? header.runStartedAt;
  if (noted === undefined || noted < updated) return false;
  return knownRun(header.runId);
}

/**
 * The finding-level guards. Automatic deliveries of Riposte's own updates
 * are dropped (a person's custom action or API request on the same finding
 * still runs); findings already RESOLVED, SUPPRESSED or ARCHIVED are left
 * as they are, whoever asks.
 */
export async function findingSkip(finding: Finding, knownRun: KnownRun): Promise<FindingSkip | undefined> {
  if (finding.trigger.kind === 'automatic' && (await isOwnUpdate(finding, knownRun))) {
    const header = noteHeader(finding.note?.text ?? '');
    return {
      code: 'own-update',
      reason: `the event is Riposte's own update coming back (note by run ${header?.runId ?? 'unknown'}${finding.note?.updatedAt === undefined ? '' : ` at ${finding.note.updatedAt}`}, after the finding's last update at ${finding.updatedAt ?? 'an unknown time'}): nothing to do`,
    };
  }
  if (finding.recordState === 'ARCHIVED') return { code: 'closed', reason: 'the finding is archived: nothing to do' };
  if (finding.workflow === 'RESOLVED' || finding.workflow === 'SUPPRESSED') {
    return { code: 'closed', reason: `the finding's workflow status is ${finding.workflow}: nothing to do` };
  }
  return undefined;
}
