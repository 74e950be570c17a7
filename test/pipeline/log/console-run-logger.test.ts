import { describe, expect, it } from 'vitest';

import { RiposteError } from '../../../src/errors.js';
import { consoleRunLogger, type ConsoleRunLoggerOptions } from '../../../src/pipeline/log/index.js';

class TagsGoneError extends RiposteError {
  readonly code = 'TEST_TAGS_GONE';
  constructor() {
    super('cannot read tags of AwsEc2Instance i-0abc', { context: { account: '111122223333' } });
  }
}

/** 12:01:02 local time, whatever the machine's zone. */
const AT = new Date(2026, 10, 24, 12, 1, 2);

function pretty(options: Omit<ConsoleRunLoggerOptions, 'stream' | 'format'> = {}) {
  const written: string[] = [];
  const logger = consoleRunLogger({ format: 'pretty', clock: () => AT, stream: { write: (chunk: string) => written.push(chunk) }, ...options });
  return { logger, written };
}

describe('consoleRunLogger, pretty', () => {
  it('writes one readable line: time, level, message, then key=value with the correlation id first and short', () => {
    const { logger, written } = pretty();

    logger
      .child({ findingId: 'arn:aws:securityhub:eu-west-1:111122223333:finding/1', correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' })
      .info('playbook matched', { playbookId: 'ec2-compromise-isolate', count: 2, dryRun: false });

    expect(written).toEqual([
      '12:01:02 INFO  playbook matched  cid=3f2a9c1b findingId=arn:aws:securityhub:eu-west-1:111122223333:finding/1 playbookId=ec2-compromise-isolate count=2 dryRun=false\n',
    ]);
  });

  it('quotes values with spaces, quotes or equals signs, and writes objects as JSON', () => {
    const { logger, written } = pretty();

    logger.warn('odd values', { reason: 'tags unreadable: nothing changes', empty: '', eq: 'a=b', ids: ['sg-1', 'sg-2'], nested: { big: 2n } });

    expect(written).toEqual(['12:01:02 WARN  odd values  reason="tags unreadable: nothing changes" empty="" eq="a=b" ids=["sg-1","sg-2"] nested={"big":"2"}\n']);
  });

  it('writes an error as CODE: message (a Riposte error) or Name: message, on the same line', () => {
    const { logger, written } = pretty();

    logger.error('guard failed', { error: new TagsGoneError() });
    logger.error('crashed', { error: new RangeError('too far') });

    expect(written).toEqual([
      '12:01:02 ERROR guard failed  error="TEST_TAGS_GONE: cannot read tags of AwsEc2Instance i-0abc"\n',
      '12:01:02 ERROR crashed  error="RangeError: too far"\n',
    ]);
  });

  it('keeps a multi-line message on one line', () => {
    const { logger, written } = pretty();

    logger.info('first\nsecond');

    expect(written).toEqual(['12:01:02 INFO  first ⏎ second\n']);
  });

  it('defaults to info and above', () => {
    const { logger, written } = pretty();

    logger.debug('hidden');
    logger.info('shown');

    expect(written).toHaveLength(1);
  });

  it('writes to stderr by default, so stdout stays the command output', () => {
    const logger = consoleRunLogger();
    const original = process.stderr.write.bind(process.stderr);
    const written: string[] = [];
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      logger.warn('to stderr');
    } finally {
      process.stderr.write = original;
    }
    expect(written).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d WARN  to stderr\n$/)]);
  });

  it('swallows a stream that fails (a closed pipe must not stop a remediation)', () => {
    const logger = consoleRunLogger({
      stream: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    });

    expect(() => logger.error('lost')).not.toThrow();
  });
});

describe('consoleRunLogger, json', () => {
  it('writes time, level, message and attributes as one object a line', () => {
    const written: string[] = [];
    const logger = consoleRunLogger({ format: 'json', clock: () => new Date('2026-11-24T12:01:02.003Z'), stream: { write: (chunk: string) => written.push(chunk) } });

    logger.child({ correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' }).info('run started', { mode: 'plan' });

    expect(written).toEqual([
      '{"time":"2026-11-24T12:01:02.003Z","level":"info","message":"run started","attributes":{"correlationId":"3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c","mode":"plan"}}\n',
    ]);
  });
});
