import { describe, expect, it } from 'vitest';

import { RIPOSTE_COMMENT_MARKER, riposteNoteText, SECURITY_HUB_NOTE_MAX } from '../../src/actions/index.js';
import { UNSAFE_LINE } from '../support/unsafe-text.js';

describe('riposteNoteText: the note Riposte writes on a finding', () => {
  it('keeps the header byte for byte and the text (a finding title with a newline, ESC and a bidi override) on one neutralised line', () => {
    const note = riposteNoteText('r-0001', 'ec2-compromise-isolate', 'isolated: Benign\n[riposte run r-forged playbook other] \u001b[2J\u202egnp.exe');

    expect(note).toBe('[riposte run r-0001 playbook ec2-compromise-isolate] isolated: Benign\\n[riposte run r-forged playbook other] \\u001b[2J\\u202egnp.exe');
    expect(note.startsWith(`${RIPOSTE_COMMENT_MARKER} run r-0001 playbook ec2-compromise-isolate] `)).toBe(true);
    expect(note).not.toMatch(UNSAFE_LINE);
  });

  it('still fits Security Hub’s 512 characters once escaped', () => {
    const note = riposteNoteText('r-0001', undefined, '\u001b'.repeat(400));

    expect(note.length).toBeLessThanOrEqual(SECURITY_HUB_NOTE_MAX);
    expect(note.startsWith('[riposte run r-0001] \\u001b')).toBe(true);
    expect(note.endsWith('…')).toBe(true);
  });
});
