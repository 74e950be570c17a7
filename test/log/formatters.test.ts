import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RiposteError } from '../../src/errors.js';
import { JsonLogFormatter, PrettyLogFormatter, RiposteLogger, type LogLevel } from '../../src/log/index.js';
import { UNSAFE_LINE } from '../support/unsafe-text.js';

class TagsGoneError extends RiposteError {
  override readonly name = 'TagsGoneError';
  readonly code = 'TEST_TAGS_GONE';
  constructor() {
    super('cannot read tags of AwsEc2Instance i-0abc', { context: { account: '111122223333' } });
  }
}

/** 12:01:02 local time, whatever the machine's zone. */
const AT = new Date(2026, 10, 24, 12, 1, 2);

beforeEach(() => {
  // Powertools stamps each line with `new Date()`: only the clock is faked, nothing waits on timers here.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(AT);
  // The level under test is the constructor's or Powertools' default, not the machine's.
  vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', undefined);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
  vi.stubEnv('LOG_LEVEL', undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function pretty(level?: LogLevel) {
  const written: string[] = [];
  const logger = new RiposteLogger({ logFormatter: new PrettyLogFormatter(), stream: { write: (chunk: string) => written.push(chunk) }, ...(level === undefined ? {} : { logLevel: level }) });
  return { logger, written };
}

describe('PrettyLogFormatter', () => {
  it('writes one readable line: time, level, message, then key=value with the correlation id first and short', () => {
    const { logger, written } = pretty();

    logger
      .child({ findingId: 'arn:aws:securityhub:eu-west-1:111122223333:finding/1', correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' })
      .info('playbook matched', { playbookId: 'ec2-compromise-isolate', count: 2, dryRun: false });

    expect(written).toEqual(['12:01:02 INFO  playbook matched  cid=3f2a9c1b findingId=arn:aws:securityhub:eu-west-1:111122223333:finding/1 playbookId=ec2-compromise-isolate count=2 dryRun=false\n']);
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

    expect(written).toEqual(['12:01:02 ERROR guard failed  error="TEST_TAGS_GONE: cannot read tags of AwsEc2Instance i-0abc"\n', '12:01:02 ERROR crashed  error="RangeError: too far"\n']);
  });

  it('keeps a multi-line message on one line', () => {
    const { logger, written } = pretty();

    logger.info('first\nsecond');

    expect(written).toEqual(['12:01:02 INFO  first ⏎ second\n']);
  });

  it('writes a finding title with ESC and OSC sequences, a newline, C1 CSI and a bidi override as visible escapes', () => {
    const { logger, written } = pretty();
    const title = 'Benign\u001b[2J\u001b]0;owned\u0007\nFORGED\u009b31m\u202egnp.exe';

    logger.child({ correlationId: 'c\u001b[2J' }).warn(`finding skipped: ${title}`, { title, bare: 'i-0abc\u202e', [`k\u001b[2J`]: 1, nested: { title }, error: new Error(title) });

    expect(written).toHaveLength(1);
    const [line] = written as [string];
    expect(line.slice(0, -1)).not.toMatch(UNSAFE_LINE);
    expect(line).toContain('WARN  finding skipped: Benign\\u001b[2J\\u001b]0;owned\\u0007 ⏎ FORGED\\u009b31m\\u202egnp.exe  cid="c\\u001b[2J"');
    expect(line).toContain('bare="i-0abc\\u202e"');
    expect(line).toContain('k\\u001b[2J=1');
  });

  it('defaults to info and above', () => {
    const { logger, written } = pretty();

    logger.debug('hidden');
    logger.info('shown');

    expect(written).toHaveLength(1);
  });

  it('writes to the stream it is given, stderr for the CLI, so stdout stays the command output', () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => stdout.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => stderr.push(String(chunk)) > 0);

    const logger = new RiposteLogger({ logFormatter: new PrettyLogFormatter(), stream: process.stderr });
    logger.info('to stderr');
    logger.child({ a: 1 }).warn('child to stderr');

    expect(stdout).toEqual([]);
    expect(stderr).toEqual(['12:01:02 INFO  to stderr\n', '12:01:02 WARN  child to stderr  a=1\n']);
  });

  it('swallows a stream that fails (a closed pipe must not stop a remediation)', () => {
    const logger = new RiposteLogger({
      logFormatter: new PrettyLogFormatter(),
      stream: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    });

    expect(() => logger.error('lost')).not.toThrow();
  });
});

describe('JsonLogFormatter', () => {
  it('writes time, level, message and attributes as one object a line', () => {
    vi.setSystemTime(new Date('2026-11-24T12:01:02.003Z'));
    const written: string[] = [];
    const logger = new RiposteLogger({ logFormatter: new JsonLogFormatter(), stream: { write: (chunk: string) => written.push(chunk) } });

    logger.child({ correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' }).info('run started', { mode: 'plan' });

    expect(written).toEqual(['{"time":"2026-11-24T12:01:02.003Z","level":"info","message":"run started","attributes":{"correlationId":"3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c","mode":"plan"}}\n']);
  });

  it('is the format of a logger given a stream and no formatter', () => {
    vi.setSystemTime(new Date('2026-11-24T12:01:02.003Z'));
    const written: string[] = [];

    new RiposteLogger({ stream: { write: (chunk: string) => written.push(chunk) } }).warn('plain');

    expect(written).toEqual(['{"time":"2026-11-24T12:01:02.003Z","level":"warn","message":"plain","attributes":{}}\n']);
  });
});
