import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

import { builtInActions } from '../../src/actions/index.js';
import {
  compiledLibraryText,
  compilePlaybookFiles,
  formatBinding,
  formatProblem,
  KNOWN_OPERATORS,
  MATCH_OPERATORS,
  MATCHABLE_FIELD_NAMES,
  MAX_ALIAS_COUNT,
  MAX_NESTING,
  parseCompiledLibrary,
  PlaybookCompileError,
  type CompileResult,
  type PlaybookFile,
} from '../../src/playbooks/index.js';
import { PLAYBOOK_FILE_LIMITS } from '../../src/playbooks/load.js';
import { propertyTimeout, runs } from '../support/fast-check.js';
import { unless } from '../support/lazy-assertion.js';

/*
 * Issue 14, "Fuzzing": the playbook compiler — compilePlaybookFiles, what
 * `riposte validate` and every command that loads playbooks call on the
 * files they read (loadPlaybooks) — given hostile YAML text. Whatever the
 * text, the answer is compiled playbooks and problems placed at
 * file:line:column: never an exception (a TypeError, a RangeError, a stack
 * overflow), never a hang, never Object.prototype touched, and what compiles
 * is plain JSON data (the package step writes it as JSON, EventBridge takes
 * its patterns as JSON).
 *
 * The text is: the library's own playbooks with values replaced, deleted and
 * inserted (regex- and ReDoS-shaped values, prototype names, wrong types,
 * numbers JSON cannot carry); match blocks built from real fields and
 * operators with such values; alias bombs; nesting around and far past the
 * limit; huge documents (bounded to fit CI: up to ~150 KB, not the 1 MiB a
 * file may hold); keys that are not text; YAML 1.1 tags and merges; and
 * token soup — any of them then cut and spliced at random places.
 *
 * test/playbooks/hostile-input.test.ts holds the fixed cases with their
 * exact messages; this searches around them. The seed comes from FC_SEED
 * (test/support/fast-check.ts); a failure prints the command that replays it.
 */

const RUNS = runs(10_000);
const TIMEOUT_MS = propertyTimeout(120_000);
/**
 * One compilation taking this long is a hang, not a slow machine: the
 * largest text generated here compiles in well under a second; before the
 * fix below, a 150 KB mapping of unknown keys took tens of seconds.
 */
const HANG_MS = 15_000;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLAYBOOK_DIRECTORY = join(ROOT, 'playbooks');
const LIBRARY_TEXTS: readonly string[] = readdirSync(PLAYBOOK_DIRECTORY)
  .filter((name) => name.endsWith('.yml'))
  .sort()
  .map((name) => readFileSync(join(PLAYBOOK_DIRECTORY, name), 'utf8'));
const ACTION_NAMES = builtInActions().names();
const REGISTRY = builtInActions();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type PathPart = string | number;

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;
const TOP_LEVEL_KEYS = ['id', 'title', 'description', 'triggers', 'match', 'conditions', 'exempt', 'steps', 'priority', 'mode', 'allowSampleFindings', 'limits'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;

/** Sets an own, enumerable property even for `__proto__` (as YAML and JSON.parse make one). */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/**
 * Regex- and ReDoS-shaped text: what a playbook author might paste believing
 * a field takes a regular expression, and the classic catastrophic
 * backtracking patterns with the inputs that trigger them. Nothing in the
 * compiler may treat them as expressions, nor take long over them.
 */
const REGEX_SHAPED: readonly string[] = [
  '(a+)+$',
  '^(a|a)*$',
  '(a|aa)+b',
  '(.*a){25}',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  '(\\w+\\s?)*$',
  '^(\\d+)*$',
  '(x+x+)+y',
  '.*.*.*.*.*.*.*=.*',
  '^Backdoor:EC2/.*$',
  'Backdoor:EC2/*',
  '/^i-[0-9a-f]+$/i',
  '[',
  '(?<',
  '\\',
  '*',
  '+',
  '?',
  '$',
  '^',
  '(?=a)',
  '[^]',
  '\\u0000',
  '%s%s%n',
  '${jndi:ldap://example.com/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '\u202e\u0000\u001b[31m',
  'a'.repeat(30) + '!',
  `${'a'.repeat(5_000)}!`,
  `${'1'.repeat(4_000)}x`,
];

const regexShaped: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REGEX_SHAPED) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'()[]{}*+?|^$\\.-aZ0:/ '), minLength: 1, maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('a', '0', 'x', 'ab', ':'), fc.integer({ min: 100, max: 5_000 }), fc.constantFrom('!', '', 'b', '\n')).map(([unit, count, end]) => unit.repeat(count) + end),
  },
);

/** Values that are nearly right somewhere in a playbook, or that JSON cannot carry. */
const NEAR_MISSES: readonly unknown[] = [
  '',
  ' ',
  'HIGH',
  'high',
  'CRITICAL',
  'guardduty',
  'securityhub',
  'FAILED',
  'ACTIVE',
  'AwsEc2Instance',
  '111122223333',
  '11112222333',
  '2027-01-31',
  '2027-13-45T25:61:61Z',
  'plan',
  'enforce',
  'CisPasswordPolicy',
  'a'.repeat(21),
  ...ACTION_NAMES,
  ...MATCH_OPERATORS,
  ...KNOWN_OPERATORS,
  ...COMBINATORS,
  ...FORBIDDEN_KEYS,
  0,
  -0,
  1,
  -1,
  1.5,
  100,
  101,
  10_000,
  10_001,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  true,
  false,
  null,
  [],
  {},
  [null],
  [[]],
  [{}],
];

/** An object with an own forbidden key somewhere down a short path. */
const withForbiddenKey: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...FORBIDDEN_KEYS), fc.jsonValue({ maxDepth: 2 }), fc.array(fc.constantFrom('a', 'match', 'tags', 'source', '0'), { maxLength: 3 }))
  .map(([key, value, path]) => {
    const leaf = {};
    defineOwn(leaf, key, value);
    return path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), leaf);
  });

/** A value nested `depth` levels, in lists or mappings: around MAX_NESTING, where the compiler's bound is. */
const nested: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: MAX_NESTING - 8, max: MAX_NESTING + 8 }), fc.constantFrom('list', 'not', 'any', 'key')).map(([depth, shape]) => {
  let value: unknown = { 'product.id': 'guardduty' };
  for (let level = 0; level < depth; level += 1) {
    if (shape === 'list') value = [value];
    else if (shape === 'not') value = { not: value };
    else if (shape === 'any') value = { any: [value] };
    else value = { k: value };
  }
  return value;
});

/** Many entries at one level: wide, not deep. */
const wide: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 50, max: 300 }), fc.boolean(), fc.constantFrom<unknown>('x', 1, 'HIGH', 'notify', null))
  .map(([count, asList, item]) => (asList ? Array.from({ length: count }, () => item) : Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, item]))));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NEAR_MISSES) },
  { weight: 3, arbitrary: regexShaped },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(regexShaped, { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.record({ prefix: fc.oneof(regexShaped, fc.array(regexShaped, { maxLength: 3 })) }) },
  { weight: 1, arbitrary: withForbiddenKey },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: wide },
);

const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...FORBIDDEN_KEYS) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...TOP_LEVEL_KEYS,
      ...MATCHABLE_FIELD_NAMES,
      ...MATCH_OPERATORS,
      ...COMBINATORS,
      ...ACTION_NAMES,
      'continueOnError',
      'fact',
      'operator',
      'value',
      'automatic',
      'customAction',
      'api',
      'accounts',
      'tags',
    ),
  },
  { weight: 1, arbitrary: regexShaped },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

// ---------------------------------------------------------------------------
// Documents: the library's playbooks, mutated; match blocks built from the language
// ---------------------------------------------------------------------------

const LIBRARY: readonly Json[] = LIBRARY_TEXTS.map((text) => parse(text) as Json);

function pathsOf(value: Json, path: readonly PathPart[] = [], out: PathPart[][] = []): PathPart[][] {
  out.push([...path]);
  if (value !== null && typeof value === 'object') {
    const entries: Array<[PathPart, Json]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) pathsOf(item, [...path, key], out);
  }
  return out;
}

type Mutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly key: string; readonly value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), key: hostileKey, value: hostileValue }) },
);

/**
 * Applies `mutations` to a fresh copy of a library playbook. Each one picks
 * its place among the document's current paths (`at` modulo their count)
 * and puts a copy of its value there: one value given twice is two values,
 * as YAML text would make them.
 */
function mutated(index: number, mutations: readonly Mutation[]): unknown {
  const root = { doc: structuredClone(LIBRARY[index] as Json) } as { doc: unknown };
  for (const change of mutations) {
    const paths = pathsOf(root.doc as Json);
    const path = paths[change.at % paths.length] as PathPart[];
    const containerPath = change.op === 'insert' ? path : path.slice(0, -1);
    let container: unknown = root;
    for (const part of ['doc', ...containerPath]) container = (container as Record<PathPart, unknown>)[part];
    if (change.op === 'insert') {
      if (Array.isArray(container)) container.push(structuredClone(change.value));
      else if (container !== null && typeof container === 'object') defineOwn(container, change.key, structuredClone(change.value));
      continue;
    }
    const last = path.length === 0 ? 'doc' : (path[path.length - 1] as PathPart);
    const parent = path.length === 0 ? root : container;
    if (change.op === 'delete') {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete (parent as Record<PathPart, unknown>)[last];
    } else {
      defineOwn(parent as object, String(last), structuredClone(change.value));
    }
  }
  return root.doc;
}

/** A field's condition in the match language, right or wrong, with regex-shaped text among its values. */
const fieldCondition: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: regexShaped },
  { weight: 2, arbitrary: fc.constantFrom(...NEAR_MISSES) },
  { weight: 2, arbitrary: fc.array(fc.oneof(regexShaped, fc.constantFrom(...NEAR_MISSES)), { maxLength: 4 }) },
  {
    weight: 3,
    arbitrary: fc.dictionary(
      fc.constantFrom(...MATCH_OPERATORS, 'regex', 'matches', 'like', 'constructor'),
      fc.oneof(regexShaped, fc.array(regexShaped, { maxLength: 3 }), fc.constantFrom(...NEAR_MISSES)),
      {
        maxKeys: 3,
      },
    ),
  },
);

const matchBlock: fc.Arbitrary<unknown> = fc.letrec<{ block: unknown }>((tie) => ({
  block: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(fc.constantFrom(...MATCHABLE_FIELD_NAMES, 'source', 'types', 'product.id'), fieldCondition, { minKeys: 1, maxKeys: 4 }),
    fc.record({ any: fc.array(tie('block'), { maxLength: 3 }) }),
    fc.record({ all: fc.array(tie('block'), { maxLength: 3 }) }),
    fc.record({ not: tie('block') }),
  ),
})).block;

/** A raw json-rules-engine condition (the escape hatch), fact and operator from the known lists or not. */
const rawCondition: fc.Arbitrary<unknown> = fc.record(
  {
    fact: fc.oneof(fc.constantFrom(...MATCHABLE_FIELD_NAMES, 'trigger.kind'), hostileKey),
    operator: fc.oneof(fc.constantFrom(...KNOWN_OPERATORS), fc.constantFrom('regex', 'matches', 'constructor', '__proto__')),
    value: hostileValue,
    path: fc.constantFrom('$.a', '$..*', '$[?(@.a)]'),
  },
  { requiredKeys: ['fact', 'operator'] },
);

const matchPlaybook: fc.Arbitrary<unknown> = fc
  .record({
    match: fc.option(matchBlock, { nil: undefined }),
    conditions: fc.option(rawCondition, { nil: undefined }),
    triggers: fc.constantFrom<unknown>({ automatic: true }, { automatic: true, customAction: 'FuzzAction' }, { api: true }, { customAction: { id: 'Fuzz', name: 'Fuzz' } }),
  })
  .map(({ match, conditions, triggers }) => ({
    id: 'fuzz',
    title: 'Fuzz',
    triggers,
    ...(match === undefined ? {} : { match }),
    ...(conditions === undefined ? {} : { conditions }),
    steps: [{ notify: {} }],
  }));

/** A document as YAML: block or flow style, shared values as anchors and aliases or written out. */
const asYaml = (value: unknown, flow: boolean, aliases: boolean): string => stringify(value, { aliasDuplicateObjects: aliases, ...(flow ? { collectionStyle: 'flow' as const } : {}), lineWidth: 0 });

const documentText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.nat({ max: LIBRARY.length - 1 }), fc.array(mutation, { maxLength: 4 })).map(([index, changes]) => mutated(index, changes)) },
      { weight: 3, arbitrary: matchPlaybook },
      { weight: 1, arbitrary: fc.array(matchPlaybook, { minLength: 1, maxLength: 3 }) },
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([value, flow, aliases]) => (value === undefined ? '' : asYaml(value, flow, aliases)));

// ---------------------------------------------------------------------------
// Hostile text: bombs, nesting, huge documents, odd keys, YAML 1.1, soup
// ---------------------------------------------------------------------------

/** A playbook that compiles, with `extra` lines at the top level and `matchExtra` lines inside its match. */
const shell = (extra = '', matchExtra = ''): string => `id: fuzz\ntitle: Fuzz\ntriggers: { automatic: true }\nmatch:\n  product.id: guardduty\n${matchExtra}steps:\n  - notify: {}\n${extra}`;

/** "Billion laughs": `levels` anchors, each a list of `width` aliases of the one before. */
const aliasBomb: fc.Arbitrary<string> = fc
  .record({ levels: fc.integer({ min: 2, max: 12 }), width: fc.integer({ min: 2, max: 12 }), where: fc.constantFrom('top', 'match', 'step', 'description'), flow: fc.boolean() })
  .map(({ levels, width, where, flow }) => {
    const anchors = [`l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(', ')}]`];
    for (let level = 1; level < levels; level += 1) anchors.push(`l${level}: &l${level} [${Array.from({ length: width }, () => `*l${level - 1}`).join(', ')}]`);
    const last = `*l${levels - 1}`;
    const block = (indent: string): string => anchors.map((line) => `${indent}${line}\n`).join('');
    if (flow) return `{ id: fuzz, title: Fuzz, triggers: { automatic: true }, steps: [ { notify: {} } ], bomb: { ${anchors.join(', ')} }, match: { product.id: guardduty, types: ${last} } }\n`;
    switch (where) {
      case 'top':
        return shell(`bomb:\n${block('  ')}`);
      case 'match':
        return shell('', `  bomb:\n${block('    ')}`);
      case 'step':
        return shell(`bomb:\n${block('  ')}`).replace('  - notify: {}', `  - notify: { extra: ${last} }`);
      default:
        return shell(`bomb:\n${block('  ')}description: ${last}\n`);
    }
  });

/** Anchors nested in anchors: a few aliases, each nesting the one before `per` levels deeper. */
const aliasChain: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 2, max: 16 }), fc.integer({ min: 1, max: 30 })).map(([links, per]) => {
  const lines = Array.from({ length: links }, (_, link) => `  c${link}: &c${link} ${'['.repeat(per)}${link === 0 ? '1' : `*c${link - 1}`}${']'.repeat(per)}`);
  return shell(`chain:\n${lines.join('\n')}\n`);
});

/**
 * Block styles indent each level further, so their text grows as the square
 * of the depth: 120 levels take 15 KB (a 1 MiB file holds about 1,000;
 * hostile-input.test.ts reads 2,000).
 */
const MAX_BLOCK_DEPTH = 120;

/**
 * Nesting of one style (or mixed flow), mostly around MAX_NESTING,
 * sometimes far deeper: flows and compact sequences (`- - - 1`, two bytes a
 * level) thousands deep, block styles up to MAX_BLOCK_DEPTH.
 */
const deepNesting: fc.Arbitrary<string> = fc
  .record({
    depth: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: MAX_NESTING - 6, max: MAX_NESTING + 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3_500 }) }),
    style: fc.constantFrom('block-map', 'block-seq', 'compact-seq', 'flow-seq', 'flow-map', 'flow-mixed'),
    opens: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
    closed: fc.boolean(),
  })
  .map(({ depth: wanted, style, opens, closed }) => {
    const depth = style.startsWith('block') ? Math.min(wanted, MAX_BLOCK_DEPTH) : wanted;
    switch (style) {
      case 'block-map':
        return shell('', `${Array.from({ length: depth }, (_, level) => `${'  '.repeat(level + 1)}not:`).join('\n')} { source: guardduty }\n`);
      case 'block-seq':
        return shell('', `  any:\n${Array.from({ length: depth }, (_, level) => `${'  '.repeat(level + 2)}-`).join('\n')} { source: guardduty }\n`);
      case 'compact-seq':
        return shell('', `  any:\n    ${'- '.repeat(depth)}{ source: guardduty }\n`);
      case 'flow-seq':
        return shell('', `  any: ${'['.repeat(depth)}${closed ? ']'.repeat(depth) : ''}\n`);
      case 'flow-map':
        return shell('', `  not: ${'{ not: '.repeat(depth)}{ source: guardduty }${closed ? ' }'.repeat(depth) : ''}\n`);
      default: {
        const kinds = Array.from({ length: depth }, (_, level) => opens[level % opens.length] as boolean);
        const open = kinds.map((list) => (list ? '[' : '{ k: ')).join('');
        const close = closed
          ? [...kinds]
              .reverse()
              .map((list) => (list ? ']' : ' }'))
              .join('')
          : '';
        return shell(`deep: ${open}1${close}\n`);
      }
    }
  });

/** At most this many characters of generated bulk (30 KB): big enough to find a quadratic walk, small enough for 10,000 runs. */
const HUGE_CHARACTERS = 30_000;

const hugeDocument: fc.Arbitrary<string> = fc
  .record({
    kind: fc.constantFrom('unknown-keys', 'duplicate-keys', 'known-keys', 'long-scalar', 'steps', 'playbooks', 'long-list', 'tags'),
    count: fc.oneof({ weight: 14, arbitrary: fc.integer({ min: 1, max: 150 }) }, { weight: 1, arbitrary: fc.integer({ min: 150, max: 2_500 }) }),
    item: regexShaped,
  })
  .map(({ kind, count, item }) => {
    const scalar = JSON.stringify(item.slice(0, 200));
    switch (kind) {
      case 'unknown-keys':
        return shell('', Array.from({ length: count }, (_, index) => `  f${index}: ${scalar}\n`).join(''));
      case 'duplicate-keys':
        return shell('', Array.from({ length: count }, () => `  source: guardduty\n`).join(''));
      case 'known-keys':
        return shell('', `  any:\n${Array.from({ length: Math.min(count, 3_000) }, (_, index) => `    - ${index % 2 === 0 ? 'types' : 'configRule.name'}: { prefix: [${scalar}] }\n`).join('')}`);
      case 'long-scalar':
        return shell(`description: ${JSON.stringify(item.repeat(Math.ceil(Math.min(count * 12, HUGE_CHARACTERS) / Math.max(1, item.length))).slice(0, HUGE_CHARACTERS))}\n`);
      case 'steps':
        return `${shell()}${Array.from({ length: count }, (_, index) => `  - ${index % 3 === 0 ? 'notify: {}' : index % 3 === 1 ? `ec2.isolate: { allowAllFirst: ${scalar} }` : `no.such-action${index}: {}`}\n`).join('')}`;
      case 'playbooks':
        return Array.from(
          { length: Math.min(count, 55) },
          (_, index) =>
            `- id: p${index % 300}\n  title: P\n  triggers: { automatic: true, customAction: { id: A${index}, name: ${index % 7 === 0 ? 'Same' : `N${index % 60}`} } }\n  match: { product.id: guardduty }\n  steps: [ { notify: {} } ]\n`,
        ).join('');
      case 'long-list':
        return shell('', `  severity.normalized: { in: [${Array.from({ length: count }, (_, index) => (index % 5 === 4 ? scalar : String(index))).join(', ')}] }\n`);
      default:
        return shell(`exempt:\n  tags:\n${Array.from({ length: count }, (_, index) => `    t${index}: ${scalar}\n`).join('')}`);
    }
  })
  .map((text) => text.slice(0, HUGE_CHARACTERS + 2_000));

/** Keys the playbook language cannot hold, and keys JavaScript reads specially, at the top level or in match. */
const oddKeys: fc.Arbitrary<string> = fc
  .record({
    key: fc.constantFrom(
      '? [a, b]\n: x',
      '[a, b]: x',
      '{ a: 1 }: x',
      '? { not: { source: guardduty } }\n: x',
      '1: x',
      '"1": x',
      '~: x',
      'null: x',
      'true: x',
      '0x1F: x',
      '1.5: x',
      '.nan: x',
      '-.inf: x',
      '"": x',
      '? |\n  block\n: x',
      '&k source: guardduty',
      '*k : x',
      '__proto__: { polluted: true }',
      'constructor: { prototype: { polluted: true } }',
      'toString: x',
      '"__proto__": x',
      'source: guardduty',
    ),
    inMatch: fc.boolean(),
    twice: fc.boolean(),
  })
  .map(({ key, inMatch, twice }) => {
    const lines = `${key}\n${twice ? `${key}\n` : ''}`;
    return inMatch ? shell('', lines.replace(/^/gm, '  ')) : shell(lines);
  });

/** YAML 1.1 (a directive switches the schema): tags that compose to Uint8Array, Set, Map and Date, merges, sexagesimal and octal numbers, yes/no booleans. */
const yaml11: fc.Arbitrary<string> = fc
  .subarray(
    [
      'match: !!set { source, types }',
      'match: !!omap [ { source: guardduty }, { source: config } ]',
      'match: { source: !!binary aGVsbG8= }',
      'match: { severity.normalized: { gt: 2001-12-14t21:59:43.10-05:00 } }',
      'match: { severity.normalized: { gt: 1:30:00 } }',
      'match: { severity.normalized: { lte: 0o17 } }',
      'priority: 0x10',
      'triggers: { automatic: yes, api: off }',
      'base: &base { product.id: guardduty }\nmatch:\n  <<: *base\n  types: { prefix: x }',
      'base: &scalar 3\nmatch:\n  <<: *scalar',
      'match:\n  <<: [ { source: guardduty }, { source: config } ]',
      'exempt: { accounts: [ { id: "111122223333", until: 2027-01-31 } ] }',
      'exempt: { tags: !!set { a, b } }',
      'steps: !!omap [ { notify: {} } ]',
      'id: !!str 123',
      'id: !!int "12"',
      'title: !!js/function "function () { return 1 }"',
      'title: !custom x',
    ],
    { minLength: 1, maxLength: 4 },
  )
  .map((lines) => {
    // Later lines win over the shell's by being the only ones: the shell's own keys are dropped where a line sets them.
    const keys = new Set(lines.map((line) => line.split(':')[0]));
    const base = ['id: fuzz', 'title: Fuzz', 'triggers: { automatic: true }', 'match: { product.id: guardduty }', 'steps: [ { notify: {} } ]'].filter((line) => !keys.has(line.split(':')[0]));
    return `%YAML 1.1\n---\n${[...base, ...lines].join('\n')}\n`;
  });

const TOKENS: readonly string[] = [
  '\n',
  '\n  ',
  '\n    ',
  ' ',
  '\t',
  ':',
  ': ',
  '- ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '!!binary ',
  '!!set ',
  '!!map ',
  '!tag ',
  '!<tag:yaml.org,2002:str> ',
  '|',
  '>-',
  '#',
  '---',
  '...',
  '%YAML 1.1\n',
  '%TAG ! tag:example.com,2000:\n',
  '"',
  "'",
  '\\',
  '<<: ',
  '\ufeff',
  '\u0000',
  '\r\n',
  '\u2028',
  'id',
  'match',
  'steps',
  'any',
  'not',
  'prefix',
  'notify',
  'guardduty',
  '__proto__',
  '(a+)+$',
];

const tokenSoup: fc.Arbitrary<string> = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((tokens) => tokens.join(''));

type Splice = { readonly at: number; readonly cut: number; readonly insert: string };

/** Cuts and insertions at random places: broken indentation, unclosed flows, half an anchor. */
const splice = (text: string, changes: readonly Splice[]): string =>
  changes.reduce((current, { at, cut, insert }) => {
    const start = current.length === 0 ? 0 : at % current.length;
    return current.slice(0, start) + insert + current.slice(start + cut);
  }, text);

const hostileText: fc.Arbitrary<string> = fc
  .tuple(
    // Weighted by cost as well as interest: 10,000 runs must fit the suite's budget, and a huge document costs a hundred small ones.
    fc.oneof(
      { weight: 14, arbitrary: documentText },
      { weight: 4, arbitrary: aliasBomb },
      { weight: 1, arbitrary: aliasChain },
      { weight: 3, arbitrary: deepNesting },
      { weight: 1, arbitrary: hugeDocument },
      { weight: 5, arbitrary: oddKeys },
      { weight: 5, arbitrary: yaml11 },
      { weight: 3, arbitrary: tokenSoup },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant<Splice[]>([]) },
      { weight: 1, arbitrary: fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 12 }), insert: fc.oneof(fc.constantFrom(...TOKENS), fc.constant('')) }), { minLength: 1, maxLength: 3 }) },
    ),
  )
  .map(([text, changes]) => splice(text, changes));

/** One to three files: the compiler's per-file isolation and its checks across files (ids, custom actions) both run. */
const hostileFiles: fc.Arbitrary<PlaybookFile[]> = fc
  .oneof({ weight: 6, arbitrary: fc.tuple(hostileText) }, { weight: 1, arbitrary: fc.array(hostileText, { minLength: 2, maxLength: 3 }) })
  .map((texts) => texts.map((text, index) => ({ path: `playbooks/fuzz-${index}.yml`, text })));

// ---------------------------------------------------------------------------
// What every answer must be
// ---------------------------------------------------------------------------

/** Paths in `value` holding what JSON cannot carry: a non-finite number, a function, a non-plain object (Set, Map, Date, bytes), undefined in a list. */
function notJson(value: unknown, path = ''): string[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} = ${String(value)}`];
  if (typeof value !== 'object') return [`${path}: ${typeof value}`];
  if (Array.isArray(value)) return value.flatMap((item, index) => (item === undefined ? [`${path}[${index}]: undefined`] : notJson(item, `${path}[${index}]`)));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return [`${path}: ${value.constructor?.name ?? 'object'}`];
  return Object.entries(value).flatMap(([key, item]) => (item === undefined ? [] : notJson(item, `${path}.${key}`)));
}

interface Tally {
  compiled: number;
  refused: number;
  aliasRefusals: number;
  nestingRefusals: number;
  keyRefusals: number;
  slowestMs: number;
}

/** Compiles `files`; fails on anything thrown, a hang, or an answer that is not well formed. */
function compileChecked(files: readonly PlaybookFile[], tally?: Tally): CompileResult {
  // Only what the loader passes on: it reads no file over 1 MiB.
  for (const file of files) {
    const bytes = Buffer.byteLength(file.text);
    unless(bytes <= PLAYBOOK_FILE_LIMITS.maxBytes, () => expect(bytes, file.path).toBeLessThanOrEqual(PLAYBOOK_FILE_LIMITS.maxBytes));
  }
  const started = performance.now();
  let result: CompileResult;
  try {
    result = compilePlaybookFiles(files);
  } catch (error) {
    throw new Error(`compilePlaybookFiles threw ${error instanceof Error ? error.name : typeof error}: ${String(error)}`, { cause: error });
  }
  const elapsed = performance.now() - started;
  unless(elapsed < HANG_MS, () => expect(elapsed, `one compilation took ${Math.round(elapsed)} ms`).toBeLessThan(HANG_MS));

  const lines = new Map(files.map((file) => [file.path, file.text.split(/\r\n|\r|\n/).length]));
  // Checked in plain code, one expectation for all: a run may have thousands of problems.
  const malformed = result.problems.filter(
    (problem) =>
      !lines.has(problem.file) ||
      !Number.isInteger(problem.line) ||
      problem.line < 1 ||
      problem.line > (lines.get(problem.file) ?? 0) + 1 ||
      !Number.isInteger(problem.column) ||
      problem.column < 1 ||
      typeof problem.path !== 'string' ||
      typeof problem.message !== 'string' ||
      problem.message.trim() === '' ||
      typeof formatProblem(problem) !== 'string',
  );
  unless(malformed.length === 0, () => expect(malformed, 'problems not placed in a file, or without a message').toEqual([]));
  // What `riposte validate` prints: every problem, and every implicit binding of what compiled.
  if (result.problems.length > 0) {
    const message = new PlaybookCompileError(result.problems).message;
    const first = formatProblem(result.problems[0] as (typeof result.problems)[number]);
    unless(message.includes(first), () => expect(message).toContain(first));
  }
  for (const compiled of result.playbooks) {
    unless(typeof compiled.playbook.id === 'string', () => expect(typeof compiled.playbook.id).toBe('string'));
    for (const binding of compiled.bindings) {
      const text = formatBinding(binding);
      unless(typeof text === 'string', () => expect(typeof text).toBe('string'));
    }
    const unlike = notJson({ playbook: compiled.playbook, rule: compiled.rule, eventPatterns: compiled.eventPatterns, bindings: compiled.bindings, permissions: compiled.permissions });
    unless(unlike.length === 0, () => expect(unlike).toEqual([]));
  }
  // The package step: what compiled is written as JSON and read back by the functions.
  if (result.problems.length === 0 && result.playbooks.length > 0) {
    const read = parseCompiledLibrary(compiledLibraryText(result.playbooks), 'fuzz.json', REGISTRY).map((compiled) => compiled.playbook.id);
    const written = result.playbooks.map((compiled) => compiled.playbook.id);
    unless(read.length === written.length && read.every((id, position) => id === written[position]), () => expect(read).toEqual(written));
  }
  const prototypeKeys = Object.keys(Object.prototype);
  unless(prototypeKeys.length === 0, () => expect(prototypeKeys).toEqual([]));
  const polluted = ({} as Record<string, unknown>).polluted;
  unless(polluted === undefined, () => expect(polluted).toBeUndefined());

  if (tally !== undefined) {
    if (result.playbooks.length > 0) tally.compiled += 1;
    if (result.problems.length > 0) tally.refused += 1;
    const messages = result.problems.map((problem) => problem.message);
    if (messages.some((message) => message.includes(`more than ${MAX_ALIAS_COUNT} alias expansions`))) tally.aliasRefusals += 1;
    if (messages.some((message) => message.includes(`deeper than ${MAX_NESTING} levels`))) tally.nestingRefusals += 1;
    if (messages.some((message) => message.includes('keys must be unique') || message.includes('a key must be a plain value'))) tally.keyRefusals += 1;
    tally.slowestMs = Math.max(tally.slowestMs, elapsed);
  }
  return result;
}

describe('compilePlaybookFiles on hostile YAML (property, issue 14)', () => {
  it(
    `answers every text with compiled playbooks and placed problems: never a throw, a hang (${HANG_MS / 1000} s a run) or a polluted prototype`,
    () => {
      const tally: Tally = { compiled: 0, refused: 0, aliasRefusals: 0, nestingRefusals: 0, keyRefusals: 0, slowestMs: 0 };

      fc.assert(
        fc.property(hostileFiles, (files) => {
          compileChecked(files, tally);
        }),
        { numRuns: RUNS },
      );

      // Not vacuous: the search reached the compiler's every answer, not only the parser's refusals.
      expect(tally.compiled, JSON.stringify(tally)).toBeGreaterThan(RUNS / 20);
      expect(tally.refused, JSON.stringify(tally)).toBeGreaterThan(RUNS / 2);
      for (const count of [tally.aliasRefusals, tally.nestingRefusals, tally.keyRefusals]) expect(count, JSON.stringify(tally)).toBeGreaterThan(RUNS / 200);
    },
    TIMEOUT_MS,
  );
});

describe('compilePlaybookFiles on hostile YAML: found by the fuzz and its probes (regressions)', () => {
  const problemsOf = (text: string): string[] => compileChecked([{ path: 'f.yml', text }]).problems.map(formatProblem);

  /*
   * seed 413438955, after 133 runs: yaml's parser recurses once per open
   * block collection and unwinds them all at the next dedent, so 3,000
   * compact sequences (`- - - …`, 6 KB) followed by `steps:` threw
   * RangeError (Maximum call stack size exceeded) before the depth check
   * could measure anything. Now the parser running out of stack is itself
   * the answer, placed by a lexical estimate.
   */
  it('compact sequences 20,000 deep followed by a dedent are one problem where the nesting passes 64, not a stack overflow', () => {
    const text = `id: fuzz\ntitle: Fuzz\ntriggers: { automatic: true }\nmatch:\n  any:\n    ${'- '.repeat(20_000)}{ source: guardduty }\nsteps:\n  - notify: {}\n`;

    expect(problemsOf(text)).toEqual(['f.yml:6:125: YAML: nests deeper than 64 levels; a playbook needs far fewer']);
  });

  it('(control) compact sequences within the bound still compile as what they are', () => {
    expect(problemsOf(shell('', '  any:\n    - - { source: guardduty }\n'))).toEqual(['f.yml:7:7: match.any[0]: must be a mapping of field: condition, got a list']);
  });

  /*
   * Found while sizing the huge documents: yaml's uniqueKeys compared each
   * key with every earlier one, and each problem was placed by a linear
   * search of its mapping, so a mapping of n unknown keys took time in n²:
   * 20,000 keys (230 KB) took 12 s, 30,000 took 46 s, and a 1 MiB file of
   * them minutes. Keys are now checked with one set per mapping and placed
   * through an index; this test's 30 s only catches the quadratic walk.
   */
  it(
    'a match of 30,000 unknown fields is 30,000 problems, each at its own line, in linear time',
    () => {
      const text = shell('', Array.from({ length: 30_000 }, (_, index) => `  f${index}: x\n`).join(''));

      const { problems } = compileChecked([{ path: 'f.yml', text }]);

      expect(problems).toHaveLength(30_000);
      expect(problems.every((problem, index) => problem.line === 6 + index && problem.column === 3 && problem.path === `match.f${index}`)).toBe(true);
    },
    propertyTimeout(30_000),
  );

  it('a key given twice in one mapping is refused at the second, `1` and `"1"` included (both are property "1")', () => {
    expect(problemsOf(shell('', '  source: guardduty\n  source: config\n'))).toEqual(['f.yml:7:3: YAML: "source" is already a key of this mapping; keys must be unique']);
    expect(problemsOf(shell('exempt:\n  tags:\n    1: a\n    "1": b\n'))).toEqual(['f.yml:11:5: YAML: "1" is already a key of this mapping; keys must be unique']);
  });

  it('a list, a mapping or an alias as a key is refused at the key, and yaml prints no warning', () => {
    const warnings: unknown[] = [];
    const listen = (warning: unknown): void => {
      warnings.push(warning);
    };
    process.on('warning', listen);
    try {
      expect(problemsOf(shell('other: { [a, b]: x }\n'))).toEqual(['f.yml:8:10: YAML: a key must be a plain value (text, a number); a list, a mapping or an alias is not one']);
      expect(problemsOf(shell('', '  ? { not: { source: guardduty } }\n  : x\n'))).toEqual(['f.yml:6:5: YAML: a key must be a plain value (text, a number); a list, a mapping or an alias is not one']);
      expect(problemsOf(shell('', '  &k source: guardduty\n  *k : x\n'))).toEqual(['f.yml:7:3: YAML: a key must be a plain value (text, a number); a list, a mapping or an alias is not one']);
    } finally {
      process.off('warning', listen);
    }
    expect(warnings).toEqual([]);
  });

  it('a YAML 1.1 merge of something not a mapping says so, and not that aliases expanded too far', () => {
    expect(problemsOf('%YAML 1.1\n---\nbase: &b 3\nid: x\n<<: *b\n')).toEqual(['f.yml:5:5: YAML: Merge sources must be maps or map aliases']);
  });

  it('`gt: .nan` and `lt: .inf` name the number given, which JSON would have called null', () => {
    expect(problemsOf(shell('', '  severity.normalized: { gt: .nan, lt: .inf }\n'))).toEqual([
      'f.yml:6:30: match.severity.normalized.gt: must be a number, got number NaN',
      'f.yml:6:40: match.severity.normalized.lt: must be a number, got number Infinity',
    ]);
  });

  it('two YAML documents in one file say how a file holds several playbooks', () => {
    expect(problemsOf(`${shell()}---\n${shell()}`)).toEqual(['f.yml:8:1: YAML: holds more than one YAML document (---): a playbook file holds one playbook or a list of them']);
  });
});
