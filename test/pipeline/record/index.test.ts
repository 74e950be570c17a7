import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import * as record from '../../../src/pipeline/record/index.js';

const directory = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'pipeline', 'record');

describe('pipeline/record public surface', () => {
  it('exports every value its modules export (the hand-kept list has not drifted)', async () => {
    const modules = readdirSync(directory).filter((name) => name.endsWith('.ts') && name !== 'index.ts');
    const missing: string[] = [];
    for (const name of modules) {
      const exported = (await import(join(directory, name))) as Record<string, unknown>;
      for (const [key, value] of Object.entries(exported)) {
        // Helpers shared between the modules (clip, describeCause, summaryContext) stay internal.
        if (['clip', 'describeCause', 'summaryContext'].includes(key)) continue;
        if ((record as Record<string, unknown>)[key] !== value) missing.push(`${name}: ${key}`);
      }
    }

    expect(missing).toEqual([]);
  });

  it('names the recorder functions the pipeline calls', () => {
    expect(Object.keys(record)).toEqual(
      expect.arrayContaining(['recordOnFinding', 'publishNotification', 'runNotification', 'publishResultEvent', 'summaryNoteText', 'readResumeRequests', 'SqsResumeQueue', 'MemoryResumeQueue']),
    );
  });
});
