import { describe, expect, it } from 'vitest';

import { canMove, hasEnded, RUN_STAGES, stagesBefore, type RunStage } from '../../src/ledger/run-state.js';

describe('the run lifecycle (run-state.ts)', () => {
  it('walks a fix forward, one stage at a time', () => {
    const path: RunStage[] = ['claimed', 'guarded', 'planned', 'executing', 'executing', 'paused', 'executing', 'verifying', 'succeeded'];
    for (const [index, stage] of path.slice(1).entries()) expect(canMove(path[index] as RunStage, stage)).toBe(true);
  });

  it('never skips a stage or goes back', () => {
    expect(canMove('claimed', 'planned')).toBe(false);
    expect(canMove('guarded', 'executing')).toBe(false);
    expect(canMove('verifying', 'executing')).toBe(false);
    expect(canMove('planned', 'guarded')).toBe(false);
    expect(canMove('claimed', 'verifying')).toBe(false);
  });

  it('lets any stage that has not ended end, and nothing move after an end but a rollback of a run that changed something', () => {
    for (const from of RUN_STAGES.filter((stage) => !hasEnded(stage))) {
      for (const end of ['succeeded', 'failed', 'skipped', 'rolled-back'] as const) expect(canMove(from, end)).toBe(true);
    }
    for (const from of RUN_STAGES.filter(hasEnded)) {
      for (const to of RUN_STAGES) expect(canMove(from, to)).toBe(to === 'rolled-back' && (from === 'succeeded' || from === 'failed'));
    }
  });

  it('names the stages a store must find a run in before a move, which is what its conditional write tests', () => {
    expect(stagesBefore('guarded')).toEqual(['claimed']);
    expect(stagesBefore('executing')).toEqual(['planned', 'executing', 'paused']);
    expect(stagesBefore('rolling-back')).toEqual(['claimed']);
  });
});
