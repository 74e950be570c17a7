import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { IntakeError, InvalidApiRequestError, InvalidFindingError, readApiRequest, readEvent, SeverityLabel, type IntakeResult, type Requester } from '../../src/intake/index.js';
import { propertyTimeout, runs } from '../support/fast-check.js';
import { fixtureText } from '../support/fixtures.js';

/*
 * Property tests for intake. The seed comes from FC_SEED (pinned in CI,
 * fresh in each local run: test/support/fast-check.ts). On failure the
 * report gives the seed, the shrunk counterexample and the command that
 * replays it; FC_RUNS_SCALE=10 (npm run test:deep) explores further.
 *
 * Generated values are never mutated and never shared: a mutation puts a
 * copy of its value into the event. (A shared value once made an event
 * contain itself — see "found by the fuzz" below.)
 */

const NUM_RUNS = runs(2_000);
/** The structured fuzz reaches the most code, so it gets the most runs: issue 14 asks intake be fuzzed at least 10,000 times. */
const FUZZ_RUNS = runs(10_000);
/** Generous per-test budget: each property takes a second or two on 2 cores. */
const TIMEOUT_MS = propertyTimeout(60_000);

const ACCOUNT_ID = /^\d{12}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SEVERITY_LABELS: readonly string[] = Object.values(SeverityLabel);
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type PathPart = string | number;
type Path = readonly PathPart[];

/** Sets an own, enumerable property even for `__proto__` (plain assignment would change the prototype). */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === 'object';
}

/** Calls `read`; an IntakeError becomes `{ error }`, anything else thrown fails the property. */
function outcomeOf(read: () => IntakeResult): { result: IntakeResult } | { error: IntakeError } {
  try {
    return { result: read() };
  } catch (error) {
    if (error instanceof IntakeError) return { error };
    throw new Error(`threw a non-IntakeError: ${String(error)}`, { cause: error });
  }
}

/** What an outcome says, comparable across two inputs that mean the same JSON. */
function summary(outcome: ReturnType<typeof outcomeOf>): unknown {
  if ('error' in outcome) return { error: outcome.error.constructor.name, field: outcome.error.field, source: outcome.error.source };
  return {
    findings: outcome.result.findings.map((finding) => finding.id),
    rejected: outcome.result.rejected.map((error) => error.field),
  };
}

// ---------------------------------------------------------------------------
// a. Arbitrary values
// ---------------------------------------------------------------------------

const SUPPORTED_EVENTS = [
  ['aws.securityhub', 'Security Hub Findings - Imported'],
  ['aws.securityhub', 'Security Hub Findings - Custom Action'],
  ['aws.securityhub', 'Findings Imported V2'],
  ['aws.guardduty', 'GuardDuty Finding'],
  ['aws.config', 'Config Rules Compliance Change'],
] as const;

/** Keys that are forbidden, that intake reads, or anything at all. */
const interestingKey = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...FORBIDDEN_KEYS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('source', 'detail-type', 'detail', 'account', 'region', 'id', 'resources', 'findings', 'toString', 'valueOf'),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
);

const anythingish = fc.anything({
  key: interestingKey,
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Objects built with own forbidden keys at random depths, as JSON.parse would build them. */
const objectWithOwnForbiddenKey = fc.tuple(fc.constantFrom(...FORBIDDEN_KEYS), fc.jsonValue({ maxDepth: 2 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 })).map(([key, value, path]) => {
  const leaf = {};
  defineOwn(leaf, key, value);
  return path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), leaf);
});

/** Usually `valid`, sometimes anything, sometimes absent (`undefined` keys are dropped). */
function mostly<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | Json | undefined> {
  return fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** Envelope-shaped objects, so arbitrary values also get past the envelope and reach the per-source readers. */
const envelopeish = fc
  .record({
    kind: fc.constantFrom(...SUPPORTED_EVENTS),
    version: mostly(fc.constant('0')),
    id: mostly(fc.uuid()),
    account: mostly(fc.stringMatching(ACCOUNT_ID)),
    region: mostly(fc.constantFrom('us-east-1', 'us-gov-west-1', 'cn-north-1')),
    resources: mostly(fc.array(fc.oneof(fc.string(), fc.constant('arn:aws:securityhub:us-east-1:999988887777:action/custom/Isolate')))),
    detail: mostly(
      fc.oneof(
        fc.dictionary(interestingKey, fc.jsonValue({ maxDepth: 3 })),
        fc.record({ actionName: fc.string(), findings: fc.array(fc.oneof(fc.jsonValue({ maxDepth: 3 }), anythingish), { maxLength: 3 }) }),
        anythingish,
      ),
    ),
  })
  .map(({ kind, ...fields }) => {
    const event: Record<string, unknown> = { source: kind[0], 'detail-type': kind[1] };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) event[key] = value;
    return event;
  });

describe('readEvent on arbitrary input (property)', () => {
  it(
    'for any JSON value, the value and its JSON text either read or throw an IntakeError, and agree (strings aside)',
    () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const fromValue = outcomeOf(() => readEvent(value));
          const fromText = outcomeOf(() => readEvent(JSON.stringify(value)));

          // A string given to readEvent *is* JSON text, so only non-strings mean the same both ways.
          if (typeof value === 'string') expect(summary(fromText)).toEqual({ error: 'MalformedEventError', field: undefined, source: 'event' });
          else expect(summary(fromText)).toEqual(summary(fromValue));
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'for any value at all (forbidden keys, null prototypes, Maps, BigInts, boxed values, sparse arrays), only IntakeError is thrown',
    () => {
      fc.assert(
        fc.property(fc.oneof(anythingish, objectWithOwnForbiddenKey, envelopeish), (value) => {
          const outcome = outcomeOf(() => readEvent(value, { origin: 'fuzz' }));

          if ('error' in outcome) {
            expect(typeof outcome.error.source).toBe('string');
            expect(outcome.error.source).not.toBe('');
          }
          expect(Object.prototype).not.toHaveProperty('polluted');
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// b. Structured fuzz over the real fixtures
// ---------------------------------------------------------------------------

const EVENTS_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'events');
const NOT_EVENTBRIDGE = new Set(['api-request.json', 'apigateway-api-request.json']);

interface EventFixture {
  readonly name: string;
  readonly text: string;
  /** Every path to a value below the root. */
  readonly paths: readonly Path[];
  /** Every path to an object or array, the root included. */
  readonly containers: readonly Path[];
  /** Every leaf value in the fixture, to move values to places they do not belong. */
  readonly leaves: readonly Json[];
}

function walk(value: Json, path: Path, out: { paths: Path[]; containers: Path[]; leaves: Json[] }): void {
  if (path.length > 0) out.paths.push(path);
  if (value !== null && typeof value === 'object') {
    out.containers.push(path);
    const entries: Array<[PathPart, Json]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) walk(item, [...path, key], out);
  } else {
    out.leaves.push(value);
  }
}

const FIXTURES: readonly EventFixture[] = readdirSync(EVENTS_DIRECTORY)
  .filter((name) => name.endsWith('.json') && !NOT_EVENTBRIDGE.has(name))
  .sort()
  .map((name) => {
    const text = fixtureText(name);
    const out = { paths: [] as Path[], containers: [] as Path[], leaves: [] as Json[] };
    walk(JSON.parse(text) as Json, [], out);
    return { name, text, ...out };
  });

/** Freezes `value` and everything in it: a test that wrote into a shared value would throw rather than leak into later runs. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Values that are almost right: the kind of thing a confused sender or an attacker writes. */
const NEAR_MISSES: readonly Json[] = deepFreeze<Json[]>([
  '',
  ' ',
  '111122223333',
  '11112222333',
  '1111222233334',
  'us-east-1',
  'moon-1',
  'global',
  'aws',
  'aws-moon',
  'arn:aws:securityhub:us-east-1::product/aws/guardduty',
  'arn:aws:securityhub:moon::product/aws/securityhub',
  'arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0',
  'arn:aws:ec2:us-east-1:evil:instance/not-an-id',
  'i-0123456789abcdef0',
  'not-an-id',
  'AWS::EC2::Instance',
  'AWS::EC2::SecurityGroup',
  'AwsEc2Instance',
  'HIGH',
  'CRITICAL',
  'NON_COMPLIANT',
  'MAYBE',
  0,
  -1,
  1,
  2004,
  3001,
  10,
  10.5,
  11,
  99,
  100,
  101,
  0.5,
  1e308,
  -1e308,
  true,
  false,
  null,
  [],
  {},
  [null],
  { uid: '111122223333' },
]);

type Mutation =
  | { readonly op: 'replace'; readonly path: Path; readonly value: Json }
  | { readonly op: 'delete'; readonly path: Path }
  | { readonly op: 'insert'; readonly path: Path; readonly key: string; readonly value: Json };

function mutationOf(fixtureValue: EventFixture): fc.Arbitrary<Mutation> {
  const value: fc.Arbitrary<Json> = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
    { weight: 2, arbitrary: fc.constantFrom(...NEAR_MISSES) },
    { weight: 2, arbitrary: fc.constantFrom(...fixtureValue.leaves) },
  );
  const path = fc.constantFrom(...fixtureValue.paths);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), path, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        path: fc.constantFrom(...fixtureValue.containers),
        key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...FORBIDDEN_KEYS, 'Region', 'Id', 'region', 'partition')),
        value,
      }),
    },
  );
}

/**
 * Applies `mutation` to `root` in place. The value put into the event is a
 * copy: the generated value stays as fast-check made it (so the report
 * shows what was generated), and one value given twice is two values — JSON
 * text can only ever describe a tree.
 */
function applyMutation(root: Json, mutation: Mutation): void {
  const { path } = mutation;
  const target = mutation.op === 'insert' ? path : path.slice(0, -1);
  let container: unknown = root;
  for (const part of target) {
    if (!isContainer(container)) return;
    container = (container as Record<PathPart, unknown>)[part];
  }
  // An earlier mutation may have removed or replaced this part of the event.
  if (!isContainer(container)) return;
  if (mutation.op === 'insert') {
    if (Array.isArray(container)) container.push(structuredClone(mutation.value));
    else defineOwn(container, mutation.key, structuredClone(mutation.value));
    return;
  }
  const last = path[path.length - 1] as PathPart;
  if (Array.isArray(container)) {
    if (typeof last !== 'number' || last >= container.length) return;
    if (mutation.op === 'delete') container.splice(last, 1);
    else container[last] = structuredClone(mutation.value);
  } else if (typeof last === 'string' && Object.hasOwn(container, last)) {
    if (mutation.op === 'delete') delete container[last];
    else defineOwn(container, last, structuredClone(mutation.value));
  }
}

const fuzzCase = fc.constantFrom(...FIXTURES).chain((fixtureValue) =>
  fc.record({
    fixture: fc.constant(fixtureValue.name),
    mutations: fc.array(mutationOf(fixtureValue), { minLength: 1, maxLength: 4 }),
    asText: fc.boolean(),
  }),
);

function assertWellFormed(result: IntakeResult, event: Json): void {
  for (const finding of result.findings) {
    expect(typeof finding.id === 'string' && finding.id !== '', `finding id ${JSON.stringify(finding.id)}`).toBe(true);
    expect(finding.account).toMatch(ACCOUNT_ID);
    expect(typeof finding.region === 'string' && finding.region !== '', `region ${JSON.stringify(finding.region)}`).toBe(true);
    expect(Number.isFinite(finding.severity.normalized), `normalized ${finding.severity.normalized}`).toBe(true);
    expect(finding.severity.normalized).toBeGreaterThanOrEqual(0);
    expect(finding.severity.normalized).toBeLessThanOrEqual(100);
    expect(SEVERITY_LABELS).toContain(finding.severity.label);
    expect(finding.resources.length).toBeGreaterThan(0);
  }
  for (const error of result.rejected) {
    expect(error).toBeInstanceOf(InvalidFindingError);
    expect(error.field).toMatch(/^detail\.findings\[\d+\]/);
  }
  // Nothing is dropped silently: every element of detail.findings is either read or rejected.
  const detail = isContainer(event) && !Array.isArray(event) ? event.detail : undefined;
  const findings = isContainer(detail) && !Array.isArray(detail) ? detail.findings : undefined;
  if (result.envelope.source === 'aws.securityhub' && Array.isArray(findings)) {
    expect(result.findings.length + result.rejected.length).toBe(findings.length);
    const indexes = [...result.findings.map((finding) => finding.raw.index), ...result.rejected.map((error) => error.index)];
    expect(new Set(indexes).size).toBe(findings.length);
  } else {
    expect(result.findings).toHaveLength(1);
    expect(result.rejected).toHaveLength(0);
  }
}

describe('readEvent on mutated real events (property)', () => {
  it('covers every EventBridge fixture, and each reads cleanly unmutated', () => {
    expect(FIXTURES.map((fixtureValue) => fixtureValue.name)).toHaveLength(18);
    for (const fixtureValue of FIXTURES) {
      const outcome = outcomeOf(() => readEvent(fixtureValue.text, { origin: fixtureValue.name }));
      expect('result' in outcome, fixtureValue.name).toBe(true);
      if ('result' in outcome) assertWellFormed(outcome.result, JSON.parse(fixtureValue.text) as Json);
    }
  });

  it(
    'after random replacements, deletions and insertions, throws only IntakeError or returns well-formed findings',
    () => {
      const byName = new Map(FIXTURES.map((fixtureValue) => [fixtureValue.name, fixtureValue]));
      fc.assert(
        fc.property(fuzzCase, ({ fixture: name, mutations, asText }) => {
          const event = JSON.parse((byName.get(name) as EventFixture).text) as Json;
          for (const mutation of mutations) applyMutation(event, mutation);

          const outcome = outcomeOf(() => readEvent(asText ? JSON.stringify(event) : event, { origin: name }));

          if ('result' in outcome) assertWellFormed(outcome.result, event);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    TIMEOUT_MS,
  );
});

describe('readEvent on mutated real events: found by the fuzz (regressions)', () => {
  const CIS = 'securityhub-imported-cis-password-policy.json';

  /*
   * seed 413438955, path "8654:1:0:0:1:2", after 8,655 runs: the event
   * handed to JSON.stringify contained itself. The near-miss object
   * { uid: '111122223333' } was one object shared by every run; an earlier
   * run had inserted into it, and this run inserted it into itself. JSON
   * text cannot be cyclic: the fault was the test's, and this is the event
   * it meant to send.
   */
  it('reads the CIS finding of an event with an unknown top-level "" key holding an object', () => {
    const event = JSON.parse(fixtureText(CIS)) as Json;
    applyMutation(event, { op: 'insert', path: [], key: '', value: { uid: '111122223333', '`FDh}`': { uid: '111122223333' } } });

    const outcome = outcomeOf(() => readEvent(JSON.stringify(event), { origin: CIS }));

    expect('result' in outcome && outcome.result.findings.map((finding) => finding.account)).toEqual(['111122223333']);
    if ('result' in outcome) assertWellFormed(outcome.result, event);
  });

  it('puts a copy of a mutation’s value into the event: one value inserted into itself makes no cycle, and stays as generated', () => {
    const event = JSON.parse(fixtureText(CIS)) as Json;
    const shared: Json = { uid: '111122223333' };

    applyMutation(event, { op: 'insert', path: [], key: 'near', value: shared });
    applyMutation(event, { op: 'insert', path: ['near'], key: 'again', value: shared });

    expect(shared).toEqual({ uid: '111122223333' });
    expect((JSON.parse(JSON.stringify(event)) as { near: unknown }).near).toEqual({ uid: '111122223333', again: { uid: '111122223333' } });
  });

  it('keeps the near-miss values frozen, so a run cannot change what later runs draw', () => {
    expect(NEAR_MISSES.filter((value) => value !== null && typeof value === 'object').every((value) => Object.isFrozen(value))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// c. On-demand API requests
// ---------------------------------------------------------------------------

const KNOWN_API_FIELDS = new Set(['instanceId', 'account', 'region', 'playbook', 'reason', 'dryRun']);

/** A field's value: usually plausible, sometimes nearly right, sometimes anything; absent when undefined. */
function apiField<T extends Json>(valid: fc.Arbitrary<T>, nearMisses: readonly Json[]): fc.Arbitrary<Json | undefined> {
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 2, arbitrary: fc.constantFrom(...nearMisses) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const apiBody = fc
  .record({
    instanceId: apiField(fc.stringMatching(INSTANCE_ID), ['i-123', 'i-0A1B2C3D4E5F60718', ' i-0a1b2c3d4e5f60718', 'i-0a1b2c3d4e5f6071', '']),
    account: apiField(fc.stringMatching(ACCOUNT_ID), ['12345', '1111222233334', 111122223333, '']),
    region: apiField(fc.constantFrom('us-east-1', 'eu-west-3', 'us-gov-west-1', 'cn-north-1', 'ap-southeast-5'), ['moon-1', 'US-EAST-1', 'global', '']),
    playbook: apiField(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/), ['Isolate Now', '-leading-dash', 'x'.repeat(65), '']),
    reason: apiField(fc.string({ minLength: 1, maxLength: 40 }), ['', '   ', 'x'.repeat(1_001)]),
    dryRun: apiField(fc.boolean(), ['yes', 'true', 1, 0, null]),
    extra: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Array<[string, Json]>>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom('instanceID', 'InstanceId', 'dry_run', 'requestedBy', ...FORBIDDEN_KEYS), fc.string({ maxLength: 8 })),
            fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
          ),
          { minLength: 1, maxLength: 3 },
        ),
      },
    ),
    asText: fc.boolean(),
  })
  .map(({ extra, asText, ...fields }) => {
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) defineOwn(body, key, value);
    for (const [key, value] of extra) defineOwn(body, key, value);
    return { body, asText };
  });

const requester: fc.Arbitrary<Requester> = fc.oneof(
  { weight: 9, arbitrary: fc.constant({ principal: 'arn:aws:iam::999988887777:user/alice' }) },
  { weight: 1, arbitrary: fc.record({ principal: fc.string({ maxLength: 6 }) }) },
);

describe('readApiRequest on arbitrary requests (property)', () => {
  it(
    'throws InvalidApiRequestError or returns exactly one finding for the requested instance',
    () => {
      fc.assert(
        fc.property(apiBody, requester, ({ body, asText }, who) => {
          let result: IntakeResult;
          try {
            result = readApiRequest(asText ? JSON.stringify(body) : body, who);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidApiRequestError);
            expect((error as InvalidApiRequestError).source).toBe('api');
            return;
          }

          expect(result.findings).toHaveLength(1);
          expect(result.rejected).toHaveLength(0);
          const [finding] = result.findings;
          expect(finding?.resources).toHaveLength(1);
          expect(finding?.resources[0]?.instanceId).toBe(body.instanceId);
          // Accepted means it really was a valid request from a named principal.
          expect(body.instanceId).toMatch(INSTANCE_ID);
          expect(finding?.account).toBe(body.account);
          expect(finding?.account).toMatch(ACCOUNT_ID);
          expect(Object.keys(body).every((key) => KNOWN_API_FIELDS.has(key))).toBe(true);
          expect(who.principal.trim()).not.toBe('');
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
