import { describe, expect, it } from 'vitest';

import { MemoryRunLogger, silentRunLogger } from '../../../src/pipeline/log/index.js';

describe('MemoryRunLogger', () => {
  it("shares one list of entries between a logger and all its children, each with the child's attributes merged", () => {
    const logger = new MemoryRunLogger();
    const child = logger.child({ correlationId: 'c-1' });
    const grandchild = child.child({ runId: 'r-1' });

    grandchild.info('deep', { step: 'notify' });
    logger.warn('top');

    expect(child.entries).toBe(logger.entries);
    expect(logger.entries).toEqual([
      { level: 'info', message: 'deep', attributes: { correlationId: 'c-1', runId: 'r-1', step: 'notify' } },
      { level: 'warn', message: 'top', attributes: {} },
    ]);
  });

  it('keeps entries frozen, and JSON-safe as a real logger writes them', () => {
    const logger = new MemoryRunLogger();
    logger.info('x', { big: 5n, error: new Error('e') });

    const [entry] = logger.entries;
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry?.attributes)).toBe(true);
    expect(entry?.attributes).toMatchObject({ big: '5', error: { name: 'Error', message: 'e' } });
  });

  it("filters below its level, and children keep their parent's level", () => {
    const logger = new MemoryRunLogger({ level: 'warn' });
    logger.child({ a: 1 }).info('dropped');
    logger.child({ a: 1 }).error('kept');

    expect(logger.entries.map((entry) => entry.message)).toEqual(['kept']);
  });

  it('forgets everything on clear, children included', () => {
    const logger = new MemoryRunLogger();
    const child = logger.child({ a: 1 });
    child.info('one');

    logger.clear();
    child.info('two');

    expect(logger.entries.map((entry) => entry.message)).toEqual(['two']);
  });

  it('does not let one root logger see another one', () => {
    const first = new MemoryRunLogger();
    const second = new MemoryRunLogger();
    first.child({ a: 1 }).info('first');

    expect(second.entries).toEqual([]);
  });
});

describe('silentRunLogger', () => {
  it('writes nothing and is its own child', () => {
    expect(silentRunLogger.child({ a: 1 })).toBe(silentRunLogger);
    expect(() => silentRunLogger.error('nothing', { error: new Error('x') })).not.toThrow();
  });
});
