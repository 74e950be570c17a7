import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RiposteError } from '../../src/errors.js';
import { MemoryLogSink, RiposteLogger, type LogLevel, type RunLogger } from '../../src/log/index.js';

/** A Riposte error as a step would throw one. */
class StepBrokeError extends RiposteError {
  override readonly name = 'StepBrokeError';
  readonly code = 'TEST_STEP_BROKE';
  constructor(cause?: unknown) {
    super('the step broke', { context: { account: '111122223333', region: 'eu-west-1', step: 'ec2.isolate' }, cause, retryable: true });
  }
}

/** One written line, the same shape whichever logger wrote it. */
interface Line {
  readonly level: string;
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

interface Harness {
  make(level?: LogLevel): RunLogger;
  lines(): Line[];
}

/** Keys Powertools writes on every line by itself. */
const POWERTOOLS_KEYS = new Set(['level', 'message', 'service', 'timestamp', 'xray_trace_id', 'sampling_rate']);

function memoryHarness(): Harness {
  let logs = new MemoryLogSink();
  return {
    make: (level) => {
      logs = new MemoryLogSink();
      return new RiposteLogger({ stream: logs, logLevel: level ?? 'debug' });
    },
    lines: () => logs.entries.map((entry) => ({ level: entry.level, message: entry.message, attributes: JSON.parse(JSON.stringify(entry.attributes)) as Record<string, unknown> })),
  };
}

/** A stream with the default format: JSON lines, as `riposte --log-format json` writes them. */
function streamJsonHarness(): Harness {
  let written: string[] = [];
  return {
    make: (level) => {
      written = [];
      return new RiposteLogger({ stream: { write: (chunk: string) => written.push(chunk) }, ...(level === undefined ? {} : { logLevel: level }) });
    },
    lines: () =>
      written.map((chunk) => {
        expect(chunk.endsWith('\n') && !chunk.slice(0, -1).includes('\n'), 'one line per entry').toBe(true);
        const parsed = JSON.parse(chunk) as { time: string; level: string; message: string; attributes: Record<string, unknown> };
        expect(new Date(parsed.time).toISOString()).toBe(parsed.time);
        return { level: parsed.level, message: parsed.message, attributes: parsed.attributes };
      }),
  };
}

/**
 * Powertools writes through a `Console` on process.stdout (debug, info) and
 * process.stderr (warn, error), unless POWERTOOLS_DEV makes it use the
 * global console: spying on the two streams' `write` captures exactly what
 * Lambda would receive.
 */
function powertoolsHarness(): Harness {
  let written: string[] = [];
  const capture = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  return {
    make: (level) => {
      written = [];
      vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      return new RiposteLogger({ serviceName: 'riposte-test', logLevel: level ?? 'debug' });
    },
    lines: () =>
      written.map((chunk) => {
        expect(chunk.endsWith('\n') && !chunk.slice(0, -1).includes('\n'), 'one line per entry').toBe(true);
        const parsed = JSON.parse(chunk) as Record<string, unknown>;
        expect(parsed.service).toBe('riposte-test');
        const attributes = Object.fromEntries(Object.entries(parsed).filter(([key]) => !POWERTOOLS_KEYS.has(key)));
        return { level: String(parsed.level).toLowerCase(), message: String(parsed.message), attributes };
      }),
  };
}

const HARNESSES: ReadonlyArray<readonly [string, () => Harness]> = [
  ['RiposteLogger into a MemoryLogSink', memoryHarness],
  ['RiposteLogger into a stream (JSON lines)', streamJsonHarness],
  ["RiposteLogger on Powertools' console (Lambda)", powertoolsHarness],
];

describe.each(HARNESSES)('%s (the RunLogger contract)', (_, harness) => {
  let h: Harness;
  beforeEach(() => {
    // Lambda's and Powertools' level settings would override the level under test.
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', undefined);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
    vi.stubEnv('LOG_LEVEL', undefined);
    vi.stubEnv('POWERTOOLS_DEV', undefined);
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', undefined);
    h = harness();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('writes level, message and attributes', () => {
    const logger = h.make('debug');

    logger.debug('one', { a: 1 });
    logger.info('two', { b: 'x' });
    logger.warn('three');
    logger.error('four', { nested: { list: [1, 'two', null], flag: true } });

    expect(h.lines()).toEqual([
      { level: 'debug', message: 'one', attributes: { a: 1 } },
      { level: 'info', message: 'two', attributes: { b: 'x' } },
      { level: 'warn', message: 'three', attributes: {} },
      { level: 'error', message: 'four', attributes: { nested: { list: [1, 'two', null], flag: true } } },
    ]);
  });

  it("carries a child's attributes to every line, through grandchildren, without touching the parent", () => {
    const root = h.make('debug');
    const delivery = root.child({ correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' });
    const finding = delivery.child({ findingId: 'f-1', account: '111122223333', region: 'eu-west-1' });
    const run = finding.child({ runId: 'r-1', region: 'us-east-1' });

    delivery.info('delivery received');
    finding.debug('matching');
    run.warn('step slow', { step: 'ec2.isolate' });
    run.error('step failed', { runId: 'r-line' });
    root.info('bare');

    expect(h.lines()).toEqual([
      { level: 'info', message: 'delivery received', attributes: { correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c' } },
      { level: 'debug', message: 'matching', attributes: { correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c', findingId: 'f-1', account: '111122223333', region: 'eu-west-1' } },
      {
        level: 'warn',
        message: 'step slow',
        attributes: { correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c', findingId: 'f-1', account: '111122223333', region: 'us-east-1', runId: 'r-1', step: 'ec2.isolate' },
      },
      // A line's own attribute wins over the child's.
      {
        level: 'error',
        message: 'step failed',
        attributes: { correlationId: '3f2a9c1b-7d4e-4f7a-9c1b-2d3e4f5a6b7c', findingId: 'f-1', account: '111122223333', region: 'us-east-1', runId: 'r-line' },
      },
      { level: 'info', message: 'bare', attributes: {} },
    ]);
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('at level %s writes %j, in children too', (level, written) => {
    const logger = h.make(level);
    const child = logger.child({ correlationId: 'c' });

    for (const each of [logger, child]) {
      each.debug('d');
      each.info('i');
      each.warn('w');
      each.error('e');
    }

    const levels = h.lines().map((line) => line.level);
    expect(levels).toEqual([...written, ...written]);
  });

  it('serializes a RiposteError through toJSON (code, context, retryable) with its cause, and other errors as name, message, stack', () => {
    const logger = h.make('debug');
    const cause = Object.assign(new Error('User is not authorized to perform: ec2:DescribeInstances'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

    logger.error('step failed', { error: new StepBrokeError(cause) });
    logger.error('unexpected', { error: new TypeError('x is not a function') });
    logger.warn('odd throw', { error: 'a thrown string' });

    const [riposte, other, text] = h.lines();
    expect(riposte?.attributes.error).toEqual({
      name: 'StepBrokeError',
      code: 'TEST_STEP_BROKE',
      message: 'the step broke',
      retryable: true,
      context: { account: '111122223333', region: 'eu-west-1', step: 'ec2.isolate' },
      cause: { name: 'AccessDenied', message: 'User is not authorized to perform: ec2:DescribeInstances', statusCode: 403, stack: expect.stringContaining('AccessDenied') as unknown },
    });
    expect(other?.attributes.error).toEqual({ name: 'TypeError', message: 'x is not a function', stack: expect.stringContaining('TypeError: x is not a function') as unknown });
    expect(text?.attributes.error).toBe('a thrown string');
  });

  it('never throws on values JSON cannot hold (bigint, cycles, throwing getters, symbols, functions)', () => {
    const logger = h.make('debug');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const selfCaused = new Error('caused by itself');
    selfCaused.cause = selfCaused;
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
      fine: 1,
    };

    expect(() => {
      logger.info('values', { big: 10n ** 30n, circular, hostile, symbol: Symbol('s'), fn: function named() {}, nan: Number.NaN, date: new Date('2027-01-31T00:00:00Z') });
      logger.child({ circular, big: 1n }).error('child', { error: selfCaused });
    }).not.toThrow();

    const [values, child] = h.lines();
    expect(values?.attributes).toEqual({
      big: '1000000000000000000000000000000',
      circular: { name: 'loop', self: '[Circular]' },
      hostile: { boom: '[Unserializable: getter exploded]', fine: 1 },
      symbol: 'Symbol(s)',
      fn: '[Function named]',
      nan: 'NaN',
      date: '2027-01-31T00:00:00.000Z',
    });
    expect(child?.attributes).toMatchObject({ circular: { name: 'loop', self: '[Circular]' }, big: '1', error: { name: 'Error', message: 'caused by itself', cause: '[Circular]' } });
  });

  it('writes any value as JSON without throwing (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true }),
        ),
        (attributes) => {
          const logger = h.make('debug');
          logger.info('fuzz', attributes);
          logger.child(attributes).warn('fuzz child');
          expect(h.lines()).toHaveLength(2);
        },
      ),
      { numRuns: 300 },
    );
    // 300 loggers and children take ~0.3 s warm, seconds on a loaded 2-core machine: the limit is for a hang, not for speed.
  });
});

describe("RiposteLogger on Powertools' console (Lambda)", () => {
  let written: string[];
  beforeEach(() => {
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', undefined);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
    vi.stubEnv('POWERTOOLS_DEV', undefined);
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', undefined);
    written = [];
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  const parsed = (): Record<string, unknown>[] => written.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes one JSON object a line with Powertools keys and the attributes at the top level', () => {
    new RiposteLogger({ serviceName: 'riposte-intake' }).child({ correlationId: 'c-1' }).info('delivery received', { findings: 3 });

    expect(parsed()).toEqual([
      { level: 'INFO', message: 'delivery received', service: 'riposte-intake', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown, sampling_rate: 0, correlationId: 'c-1', findings: 3 },
    ]);
  });

  it('writes DEL, C1 and bidi controls and U+2028 escaped (a finding title with U+202E, U+009B, U+007F, U+2028), and the line parses back to the same text', () => {
    const title = 'Backdoor \u202egnp.exe\u009b31m \u007f on i-0abc\u2028FORGED';
    new RiposteLogger().info('finding received', { title });

    expect(written).toHaveLength(1);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(written[0]?.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(written[0]).toContain('\\u202e');
    expect(parsed()[0]?.title).toBe(title);
  });

  it('defaults to level INFO and service riposte', () => {
    const logger = new RiposteLogger();
    logger.debug('hidden');
    logger.info('shown');

    expect(parsed()).toMatchObject([{ level: 'INFO', message: 'shown', service: 'riposte' }]);
  });

  it('renames attributes Powertools reserves for itself instead of losing them', () => {
    new RiposteLogger().child({ service: 'ec2' }).info('reserved', { message: 'inner', level: 3, timestamp: 'then' });

    expect(parsed()).toEqual([expect.objectContaining({ message: 'reserved', service: 'riposte', _service: 'ec2', _message: 'inner', _level: 3, _timestamp: 'then' })]);
  });

  it("is a handler's own Powertools logger: a child writes with its service, level and keys, leaving it as it was", () => {
    const handlerLogger = new RiposteLogger({ serviceName: 'riposte-api', logLevel: 'WARN', persistentKeys: { stage: 'prod' } });
    const logger: RunLogger = handlerLogger;

    logger.child({ correlationId: 'c-2' }).warn('slow');
    logger.info('filtered by the handler logger level');
    handlerLogger.warn('handler line');

    expect(parsed()).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'slow', service: 'riposte-api', stage: 'prod', correlationId: 'c-2' }),
      expect.not.objectContaining({ correlationId: 'c-2' }),
    ]);
    expect(parsed()[1]).toMatchObject({ message: 'handler line', stage: 'prod' });
  });

  it("sends Powertools' own set-up lines, written before a stream is attached, to its console, never throwing", () => {
    // With a sample rate of 1, Powertools logs 'Setting log level to DEBUG…' from inside its constructor.
    vi.stubEnv('POWERTOOLS_LOGGER_SAMPLE_RATE', '1');
    const logs = new MemoryLogSink();

    const logger = new RiposteLogger({ logLevel: 'info', stream: logs });
    logger.debug('sampled');

    expect(logs.entries).toEqual([{ level: 'debug', message: 'sampled', attributes: {} }]);
    expect(written.map((line) => JSON.parse(line) as { message: string })).toMatchObject([{ message: 'Setting log level to DEBUG due to sampling rate' }]);
  });

  it("applies its own level over a handler's logger without changing that logger", () => {
    const handlerLogger = new RiposteLogger({ serviceName: 'riposte-api', logLevel: 'ERROR' });
    handlerLogger.createChild({ logLevel: 'DEBUG' }).debug('now shown');
    handlerLogger.info('still filtered');

    expect(parsed()).toMatchObject([{ level: 'DEBUG', message: 'now shown' }]);
  });
});
