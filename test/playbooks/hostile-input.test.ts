import { describe, expect, it } from 'vitest';

import { compilePlaybookFiles, formatProblem, type PlaybookFile } from '../../src/playbooks/index.js';

/*
 * Issue 11, "Hostile playbooks and inputs get a clear error, never a crash or
 * a hang": playbook files crafted to exhaust the parser or to reach
 * Object.prototype through a name. Each goes through compilePlaybookFiles,
 * what `riposte validate` calls (after reading the files), beside a broken
 * file and a valid one: the hostile file becomes file:line:column problems,
 * and the other files are still reported and compiled.
 */

const HEAD = 'id: hostile\ntitle: Hostile\ntriggers: { automatic: true }\nsteps:\n  - notify: {}\n';

const VALID: PlaybookFile = { path: 'playbooks/valid.yml', text: 'id: valid\ntitle: Valid\ntriggers: { automatic: true }\nmatch: { product.id: guardduty }\nsteps:\n  - notify: {}\n' };
const BROKEN: PlaybookFile = { path: 'playbooks/broken.yml', text: 'id: broken\ntitle: Broken\ntriggers: { automatic: true }\nmatch: { severity.lable: HIGH }\nsteps:\n  - notify: {}\n' };

/** "Billion laughs": ten levels of nine aliases each, 10^9 strings once expanded. */
function aliasBomb(): string {
  const lines = ['bomb:', '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let level = 1; level < 10; level += 1) {
    const name = String.fromCharCode(97 + level);
    const previous = String.fromCharCode(96 + level);
    lines.push(`  ${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(', ')}]`);
  }
  return `${HEAD}match: { product.id: guardduty }\n${lines.join('\n')}\n`;
}

const blockMapping = (depth: number): string => `${HEAD}match:\n${Array.from({ length: depth }, (_, level) => `${'  '.repeat(level + 1)}not:`).join('\n')} { source: guardduty }\n`;
const blockSequence = (depth: number): string => `${HEAD}match:\n  any:\n${Array.from({ length: depth }, (_, level) => `${'  '.repeat(level + 2)}-`).join('\n')} 1\n`;
const flowNesting = (depth: number): string => `${HEAD}match: { any: ${'['.repeat(depth)}${']'.repeat(depth)} }\n`;

/** Compiles the hostile file between a broken and a valid one; never throws (a throw fails the test). */
function validate(hostile: string): ReturnType<typeof compilePlaybookFiles> {
  return compilePlaybookFiles([BROKEN, { path: 'playbooks/hostile.yml', text: hostile }, VALID]);
}

function expectOthersReported(result: ReturnType<typeof compilePlaybookFiles>): void {
  expect(result.problems.filter((problem) => problem.file === BROKEN.path).map(formatProblem)).toEqual([
    'playbooks/broken.yml:4:10: match.severity.lable: "severity.lable" is not a field Riposte can match on (did you mean "severity.label"?)',
  ]);
  expect(result.playbooks.map((compiled) => compiled.playbook.id)).toEqual(['valid']);
}

/** Paths in `value` holding Object.prototype itself or a function: what a look-up by a playbook's text could have found there. */
function fromPrototype(value: unknown, path = ''): string[] {
  if (typeof value === 'function' || value === Object.prototype) return [path];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => fromPrototype(child, `${path}.${key}`));
}

const hostileProblems = (result: ReturnType<typeof compilePlaybookFiles>): string[] => result.problems.filter((problem) => problem.file === 'playbooks/hostile.yml').map(formatProblem);

describe('hostile playbook files', () => {
  it('an alias bomb ("billion laughs") is refused at its first alias, and the other files are still reported', () => {
    const result = validate(aliasBomb());

    expect(hostileProblems(result)).toEqual(['playbooks/hostile.yml:9:10: YAML: Excessive alias count indicates a resource exhaustion attack (more than 100 alias expansions)']);
    expectOthersReported(result);
  });

  it('a few aliases (an anchor shared by two fields) still compile', () => {
    const text =
      'id: shared\ntitle: Shared\ntriggers: { automatic: true }\nmatch:\n  severity.label: &high [HIGH, CRITICAL]\n  not: { severity.label: *high, source: config }\nsteps:\n  - notify: {}\n';

    expect(compilePlaybookFiles([{ path: 'shared.yml', text }]).problems).toEqual([]);
  });

  it.each([
    ['block mappings nested 2,000 deep', blockMapping(2_000), 'playbooks/hostile.yml:70:129'],
    ['block sequences nested 2,000 deep', blockSequence(2_000), 'playbooks/hostile.yml:70:129'],
    ['flow sequences nested 2,000 deep', flowNesting(2_000), 'playbooks/hostile.yml:6:77'],
  ])('%s: one problem where the nesting passes 64 levels, and the other files are still reported', (_, text, where) => {
    const result = validate(text);

    expect(hostileProblems(result)).toEqual([`${where}: YAML: nests deeper than 64 levels; a playbook needs far fewer`]);
    expectOthersReported(result);
  });

  it('nesting within the bound (60 levels of "not") still compiles', () => {
    const { problems, playbooks } = compilePlaybookFiles([{ path: 'deep.yml', text: blockMapping(60) }]);

    expect(problems).toEqual([]);
    expect(playbooks).toHaveLength(1);
  });

  it('aliases that nest one anchor in another past 64 levels are refused, not expanded into a stack overflow', () => {
    // Each anchor nests the previous one 12 levels down: 12 levels of text, 84 once expanded, 6 aliases.
    const anchors = Array.from({ length: 7 }, (_, level) => `  l${level}: &l${level} ${'['.repeat(12)}${level === 0 ? '1' : `*l${level - 1}`}${']'.repeat(12)}`).join('\n');
    const result = validate(`${HEAD}match: { product.id: guardduty }\nchain:\n${anchors}\n`);

    expect(hostileProblems(result)).toEqual(['playbooks/hostile.yml:9:23: YAML: aliases nest deeper than 64 levels; a playbook needs far fewer']);
    expectOthersReported(result);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('`match: { %s: x }` is an unknown field at file:line:column, and the other files are still reported', (key) => {
    const result = validate(`${HEAD}match: { ${key}: x }\n`);

    expect(hostileProblems(result)).toEqual([`playbooks/hostile.yml:6:10: match.${key}: "${key}" is not a field Riposte can match on`]);
    expectOthersReported(result);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('`%s` beside a real field, inside `any` and as an operator is refused each time', (key) => {
    const result = validate(`${HEAD}match:\n  source: guardduty\n  ${key}: x\n  any:\n    - { ${key}: x }\n    - { types: { ${key}: x } }\n`);

    expect(hostileProblems(result)).toEqual([
      `playbooks/hostile.yml:8:3: match.${key}: "${key}" is not a field Riposte can match on`,
      `playbooks/hostile.yml:10:9: match.any[0].${key}: "${key}" is not a field Riposte can match on`,
      `playbooks/hostile.yml:11:18: match.any[1].types.${key}: "${key}" is not a match operator (equals, in, prefix, gt, gte, lt, lte, exists, not)`,
    ]);
    expectOthersReported(result);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('`%s` as the fact of a raw condition is not a fact Riposte provides', (key) => {
    const result = validate(`${HEAD}match: { source: guardduty }\nconditions: { fact: ${key}, operator: equal, value: x }\n`);

    expect(hostileProblems(result)).toEqual([`playbooks/hostile.yml:7:21: conditions.fact: "${key}" is not a fact Riposte provides`]);
    expectOthersReported(result);
  });

  it.each([
    ['source', 'equal', 'constructor'],
    ['severity.label', 'in', '[constructor, toString]'],
    ['compliance.status', 'in', '[__proto__]'],
  ])('a raw condition comparing %s with Object.prototype names compiles into patterns of plain data (it threw, or put Object.prototype in them)', (fact, operator, value) => {
    const result = validate(`${HEAD}conditions: { fact: ${fact}, operator: ${operator}, value: ${value} }\n`);

    expect(hostileProblems(result)).toEqual([]);
    expect(result.playbooks.map((compiled) => compiled.playbook.id)).toEqual(['hostile', 'valid']);
    // Patterns hold only plain data: nothing looked up from Object.prototype (a function, or the prototype itself).
    expect(fromPrototype(result.playbooks[0]?.eventPatterns)).toEqual([]);
  });

  it('`limits.maxResourcesPerHour: 9007199254740991` is refused: a limit that high limits nothing', () => {
    const result = validate(`${HEAD}match: { product.id: guardduty }\nlimits: { maxResourcesPerHour: 9007199254740991 }\n`);

    expect(hostileProblems(result)).toEqual([
      'playbooks/hostile.yml:7:32: limits.maxResourcesPerHour: must be at most 10,000: a limit above that no longer limits anything (leave "limits" out for none)',
    ]);
    expectOthersReported(result);
  });

  it('`limits.maxResourcesPerHour: 10000` is still a limit', () => {
    const result = validate(`${HEAD}match: { product.id: guardduty }\nlimits: { maxResourcesPerHour: 10000 }\n`);

    expect(hostileProblems(result)).toEqual([]);
    expect(result.playbooks[0]?.playbook.limits).toEqual({ maxResourcesPerHour: 10_000 });
  });
});
