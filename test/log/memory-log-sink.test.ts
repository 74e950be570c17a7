import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';

beforeEach(() => {
  vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('MemoryLogSink', () => {
  it("keeps the lines of a logger and all its children in one list, each with the child's attributes merged", () => {
    const logs = new MemoryLogSink();
    const logger = new RiposteLogger({ logLevel: 'debug', stream: logs });
    const child = logger.child({ correlationId: 'c-1' });
    const grandchild = child.child({ runId: 'r-1' });

    grandchild.info('deep', { step: 'notify' });
    logger.warn('top');

    expect(logs.entries).toEqual([
      { level: 'info', message: 'deep', attributes: { correlationId: 'c-1', runId: 'r-1', step: 'notify' } },
      { level: 'warn', message: 'top', attributes: {} },
    ]);
  });

  it('keeps entries frozen, and JSON-safe as the logger wrote them', () => {
    const logs = new MemoryLogSink();
    new RiposteLogger({ logLevel: 'debug', stream: logs }).info('x', { count: 5n, error: new Error('e') });

    const [entry] = logs.entries;
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry?.attributes)).toBe(true);
    expect(entry?.attributes).toMatchObject({ count: '5', error: { name: 'Error', message: 'e' } });
  });

  it("keeps only what passes the logger's level, and children keep their parent's level", () => {
    const logs = new MemoryLogSink();
    const logger = new RiposteLogger({ logLevel: 'warn', stream: logs });
    logger.child({ a: 1 }).info('dropped');
    logger.child({ a: 1 }).error('kept');

    expect(logs.entries.map((entry) => entry.message)).toEqual(['kept']);
  });

  it('forgets everything on clear, children included', () => {
    const logs = new MemoryLogSink();
    const child = new RiposteLogger({ logLevel: 'debug', stream: logs }).child({ a: 1 });
    child.info('one');

    logs.clear();
    child.info('two');

    expect(logs.entries.map((entry) => entry.message)).toEqual(['two']);
  });

  it('does not let one root logger see another one', () => {
    const first = new MemoryLogSink();
    const second = new MemoryLogSink();
    new RiposteLogger({ stream: first }).child({ a: 1 }).info('first');
    new RiposteLogger({ stream: second });

    expect(second.entries).toEqual([]);
  });
});

describe("RiposteLogger at level 'silent'", () => {
  it('writes nothing, nor do its children, and never throws', () => {
    const logs = new MemoryLogSink();
    const logger = new RiposteLogger({ logLevel: 'silent', stream: logs });

    expect(() => {
      logger.error('nothing', { error: new Error('x') });
      logger.child({ a: 1 }).error('nothing either');
    }).not.toThrow();
    expect(logs.entries).toEqual([]);
  });
});
