import { RIPOSTE_COMMENT_MARKER, RIPOSTE_NOTE_AUTHOR } from '../../actions/index.js';
import type { Finding } from '../../intake/index.js';

/** Why a finding is not acted on at all, before any playbook is considered. */
export interface FindingSkip {
  /** `own-update`: the event is Riposte's own note or status coming back; `closed`: resolved, suppressed or archived. */
  readonly code: 'own-update' | 'closed';
  readonly reason: string;
}

const time = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? undefined : value;
};

/**
 * Whether this delivery is Riposte's own BatchUpdateFindings coming back as
 * a new "Findings - Imported" event. Security Hub raises that event for
 * every customer update, and such updates never move the finding's own
 * `UpdatedAt` — so a finding whose latest note is Riposte's, written no
 * earlier than the provider's last update, has not changed since Riposte
 * looked at it. A provider re-import after the note (the control failed
 * again) moves `UpdatedAt` past the note and is acted on again.
 */
export function isOwnUpdate(finding: Finding): boolean {
  const note = finding.note;
  if (note === undefined) return false;
  const byRiposte = note.updatedBy === undefined ? note.text.startsWith(RIPOSTE_COMMENT_MARKER) : note.updatedBy === RIPOSTE_NOTE_AUTHOR;
  if (!byRiposte) return false;
  const noted = time(note.updatedAt);
  const updated = time(finding.updatedAt);
  return noted === undefined || updated === undefined || noted >= updated;
}

/**
 * The finding-level guards. Automatic deliveries of Riposte's own updates
 * are dropped (a person's custom action or API request on the same finding
 * still runs); findings already RESOLVED, SUPPRESSED or ARCHIVED are left
 * as they are, whoever asks.
 */
export function findingSkip(finding: Finding): FindingSkip | undefined {
  if (finding.trigger.kind === 'automatic' && isOwnUpdate(finding)) {
    return {
      code: 'own-update',
      reason: `the event is Riposte's own update coming back (note by ${finding.note?.updatedBy ?? 'riposte'} at ${finding.note?.updatedAt ?? 'an unknown time'}): nothing to do`,
    };
  }
  if (finding.recordState === 'ARCHIVED') return { code: 'closed', reason: 'the finding is archived: nothing to do' };
  if (finding.workflow === 'RESOLVED' || finding.workflow === 'SUPPRESSED') {
    return { code: 'closed', reason: `the finding's workflow status is ${finding.workflow}: nothing to do` };
  }
  return undefined;
}
