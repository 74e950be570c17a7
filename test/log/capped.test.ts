import { describe, expect, it } from 'vitest';

import { RiposteError } from '../../src/errors.js';
import { logCapped, MAX_LINES_PER_KIND, MemoryLogSink, RiposteLogger } from '../../src/log/index.js';

class EmptyFindingError extends RiposteError {
  override readonly name = 'EmptyFindingError';
  readonly code: string;
  constructor(index: number, code = 'INTAKE_INVALID_FINDING') {
    super(`aws.securityhub: detail.findings[${index}].Id is missing`, { context: { source: 'aws.securityhub', findingIndex: index, field: `detail.findings[${index}].Id` } });
    this.code = code;
  }
}

function logged() {
  const sink = new MemoryLogSink();
  let bytes = 0;
  const stream = {
    write(chunk: string) {
      bytes += Buffer.byteLength(chunk);
      sink.write(chunk);
    },
  };
  return { logger: new RiposteLogger({ stream }).child({ correlationId: 'c-1' }), sink, bytes: () => bytes };
}

describe('logCapped', () => {
  it('logs 20 of 85,000 rejected empty findings one by one, then one line counting the rest by code (a few KB, not 34 MB)', () => {
    const rejected = Array.from({ length: 85_000 }, (_, index) => new EmptyFindingError(index, index % 2 === 0 ? 'INTAKE_INVALID_FINDING' : 'INTAKE_MALFORMED_EVENT'));
    const { logger, sink, bytes } = logged();

    const one = logCapped(logger, rejected, { level: 'error', message: 'finding rejected by intake', attributes: (error) => ({ error }), countBy: (error) => error.code });

    expect(one).toBe(MAX_LINES_PER_KIND);
    expect(sink.entries).toHaveLength(MAX_LINES_PER_KIND + 1);
    expect(sink.entries.slice(0, MAX_LINES_PER_KIND).every((entry) => entry.level === 'error' && entry.message === 'finding rejected by intake')).toBe(true);
    expect(sink.entries[0]?.attributes).toMatchObject({ correlationId: 'c-1', error: { code: 'INTAKE_INVALID_FINDING', context: { findingIndex: 0 } } });
    expect(sink.entries.at(-1)).toEqual({
      level: 'error',
      message: 'finding rejected by intake: 84980 more not logged one by one',
      attributes: { correlationId: 'c-1', notLogged: 84_980, total: 85_000, notLoggedBy: { INTAKE_INVALID_FINDING: 42_490, INTAKE_MALFORMED_EVENT: 42_490 } },
    });
    expect(bytes()).toBeLessThan(20 * 1024);
  });

  it('logs every item, and no count line, when there are no more than the cap', () => {
    const { logger, sink } = logged();

    logCapped(logger, ['a', 'b'], { level: 'warn', message: 'odd', attributes: (item) => ({ item }) });

    expect(sink.entries.map((entry) => [entry.level, entry.message, entry.attributes.item])).toEqual([
      ['warn', 'odd', 'a'],
      ['warn', 'odd', 'b'],
    ]);
  });

  it('takes another cap, and counts keys such as "__proto__" as plain keys', () => {
    const { logger, sink } = logged();

    logCapped(logger, ['__proto__', '__proto__', 'constructor'], { level: 'info', message: 'key', attributes: (key) => ({ key }), countBy: (key) => key, max: 1 });

    expect(sink.entries).toHaveLength(2);
    expect(sink.entries[1]?.attributes.notLoggedBy).toEqual(JSON.parse('{"__proto__":1,"constructor":1}'));
  });
});
