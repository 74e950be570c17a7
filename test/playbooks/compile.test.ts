import { describe, expect, it } from 'vitest';

import { compilePlaybookFiles, compilePlaybooks, formatProblem, PlaybookCompileError, type PlaybookProblem } from '../../src/playbooks/index.js';

const VALID = `id: isolate-on-backdoor
title: Isolate on backdoor
triggers:
  automatic: true
match:
  product.id: guardduty
  severity.label: [HIGH, CRITICAL]
steps:
  - ec2.isolate: {}
`;

const compile = (text: string, path = 'playbooks/test.yml'): readonly PlaybookProblem[] => compilePlaybookFiles([{ path, text }]).problems;

/** The one problem whose message contains `fragment`. */
const problemAbout = (problems: readonly PlaybookProblem[], fragment: string): PlaybookProblem => {
  const found = problems.filter((p) => p.message.includes(fragment));
  expect(found, `problems: ${problems.map(formatProblem).join('\n')}`).toHaveLength(1);
  return found[0] as PlaybookProblem;
};

describe('compilePlaybookFiles', () => {
  it('compiles a valid playbook into a rule, its facts, patterns and permissions', () => {
    const { playbooks, problems } = compilePlaybookFiles([{ path: 'p.yml', text: VALID }]);

    expect(problems).toEqual([]);
    const [compiled] = playbooks;
    expect(compiled?.rule).toEqual({
      name: 'isolate-on-backdoor',
      priority: 1,
      event: { type: 'playbook-matched', params: { playbookId: 'isolate-on-backdoor' } },
      conditions: {
        all: [
          { fact: 'trigger.kind', operator: 'equal', value: 'automatic' },
          {
            all: [
              { fact: 'product.id', operator: 'equal', value: 'guardduty' },
              { fact: 'severity.label', operator: 'in', value: ['HIGH', 'CRITICAL'] },
            ],
          },
        ],
      },
    });
    expect(compiled?.facts).toEqual(['product.id', 'severity.label', 'trigger.kind']);
    expect(compiled?.permissions.member).toContain('ec2:ModifyNetworkInterfaceAttribute');
    expect(compiled?.permissions.hosting).toEqual([]);
    expect(compiled?.playbook.steps).toEqual([{ action: 'ec2.isolate', params: { allowAllFirst: true, ssmEndpoints: false }, continueOnError: false, concurrent: false }]);
    expect(compiled?.source).toEqual({ file: 'p.yml', line: 1, column: 1 });
  });

  /** VALID with `steps` as written (the steps start on line 9). */
  const withSteps = (steps: string): string => VALID.replace('  - ec2.isolate: {}\n', steps);

  it('compiles `concurrent: true` on a step after the first (it starts with the step before it); a step without it has `concurrent: false`', () => {
    const text = withSteps('  - ec2.snapshot-volumes: {}\n  - ec2.isolate: {}\n    concurrent: true\n  - ec2.capture-metadata: {}\n    concurrent: false\n  - notify: { subject: done }\n');

    const { playbooks, problems } = compilePlaybookFiles([{ path: 'p.yml', text }]);

    expect(problems).toEqual([]);
    expect(playbooks[0]?.playbook.steps.map(({ action, concurrent }) => ({ action, concurrent }))).toEqual([
      { action: 'ec2.snapshot-volumes', concurrent: false },
      { action: 'ec2.isolate', concurrent: true },
      { action: 'ec2.capture-metadata', concurrent: false },
      { action: 'notify', concurrent: false },
    ]);
  });

  it('refuses a raw condition whose value is .inf or .nan: the compiled rule is JSON, which has no such numbers (fuzzing counterexample, FC_SEED=1625488869)', () => {
    const text = 'id: fuzz\ntitle: Fuzz\ntriggers:\n  automatic: true\nconditions:\n  fact: source\n  operator: equal\n  value: .inf\nsteps:\n  - notify: {}\n';
    const problems = compile(text);

    expect(problems).toHaveLength(1);
    expect(problemAbout(problems, 'must be a finite number')).toMatchObject({ path: 'conditions.value', line: 8 });
    expect(compile(text.replace('.inf', '[1, .nan]'))).toHaveLength(1);
  });

  it('refuses `concurrent` that is not a boolean, pointing at it', () => {
    const problem = problemAbout(compile(withSteps('  - ec2.snapshot-volumes: {}\n  - ec2.isolate: {}\n    concurrent: "true"\n')), 'must be true or false');

    expect(problem).toMatchObject({ path: 'steps[1].concurrent', line: 11, column: 17 });
  });

  it('refuses `concurrent: true` on the first step: there is no step before it to run beside', () => {
    const problems = compile(withSteps('  - ec2.isolate: {}\n    concurrent: true\n  - ec2.capture-metadata: {}\n'));

    expect(problems).toHaveLength(1);
    expect(problemAbout(problems, 'the first step has no step before it to run beside: remove concurrent')).toMatchObject({ path: 'steps[0].concurrent', line: 10, column: 17 });
  });

  it('accepts `concurrent: false` on the first step (it changes nothing)', () => {
    const { playbooks, problems } = compilePlaybookFiles([{ path: 'p.yml', text: withSteps('  - ec2.isolate: {}\n    concurrent: false\n') }]);

    expect(problems).toEqual([]);
    expect(playbooks[0]?.playbook.steps[0]?.concurrent).toBe(false);
  });

  it('points at an unknown field with file, line and column, and suggests the field meant', () => {
    const problem = problemAbout(compile(VALID.replace('severity.label:', 'severity.lable:')), 'severity.lable');

    expect(problem).toMatchObject({ file: 'playbooks/test.yml', line: 7, column: 3, path: 'match.severity.lable', suggestion: 'severity.label' });
    expect(formatProblem(problem)).toBe('playbooks/test.yml:7:3: match.severity.lable: "severity.lable" is not a field Riposte can match on (did you mean "severity.label"?)');
  });

  it('suggests the nearest action for an unknown step', () => {
    const problem = problemAbout(compile(VALID.replace('ec2.isolate', 'ec2.isolat')), 'not a known action');

    expect(problem).toMatchObject({ line: 9, column: 5, path: 'steps[0].ec2.isolat', suggestion: 'ec2.isolate' });
  });

  it('checks step parameters against the action schema and suggests the parameter meant', () => {
    const problems = compile(VALID.replace('ec2.isolate: {}', 'ec2.isolate: { allowAllFirts: true }'));

    expect(problemAbout(problems, 'allowAllFirts')).toMatchObject({ path: 'steps[0].ec2.isolate.allowAllFirts', suggestion: 'allowAllFirst', line: 9 });
  });

  it('rejects a parameter of the wrong type', () => {
    const problem = problemAbout(compile(VALID.replace('ec2.isolate: {}', 'ec2.snapshot-volumes: { shareWithAccount: "12" }')), '12-digit');

    expect(problem.path).toBe('steps[0].ec2.snapshot-volumes.shareWithAccount');
  });

  it.each([
    ['severity.normalized: { prefix: "7" }', '"prefix" applies to text fields; severity.normalized is a number'],
    ['severity.label: { gte: 7 }', '"gte" compares numbers; severity.label is text'],
    ['severity.normalized: "70"', 'severity.normalized is a number, got string "70"'],
    ['severity.normalized: { gte: "70" }', 'must be a number, got string "70"'],
    ['types: { exists: "yes" }', 'must be true or false'],
    ['account: []', 'is an empty list: it would match nothing'],
    ['workflow: { between: [1, 2] }', '"between" is not a match operator'],
  ])('makes wrong types compile errors, not silent non-matches: %s', (line, message) => {
    const problems = compile(VALID.replace('  severity.label: [HIGH, CRITICAL]', `  ${line}`));

    expect(problemAbout(problems, message).line).toBe(7);
  });

  it('rejects a value outside a field’s enumeration and suggests the one meant', () => {
    const problem = problemAbout(compile(VALID.replace('[HIGH, CRITICAL]', '[HIGH, CRITICALL]')), 'CRITICALL');

    expect(problem).toMatchObject({ path: 'match.severity.label[1]', suggestion: 'CRITICAL', line: 7, column: 26 });
  });

  it('refuses trigger facts in match: they are bound by triggers', () => {
    expect(problemAbout(compile(VALID.replace('  product.id: guardduty', '  trigger.kind: api')), 'triggers').path).toBe('match.trigger.kind');
  });

  it('checks the raw conditions escape hatch for known facts and operators', () => {
    const text = `${VALID}conditions:\n  any:\n    - { fact: severity.normalised, operator: greaterThan, value: 50 }\n    - { fact: account, operator: startsWith, value: "1" }\n`;

    const problems = compile(text);

    expect(problemAbout(problems, 'severity.normalised')).toMatchObject({ suggestion: 'severity.normalized', path: 'conditions.any[0].fact', line: 12 });
    expect(problemAbout(problems, 'startsWith')).toMatchObject({ path: 'conditions.any[1].operator', line: 13 });
  });

  it('refuses an automatic playbook without match: it would run on every finding', () => {
    expect(problemAbout(compile(VALID.replace(/match:\n(.*\n){2}/, '')), 'without it, it would run on every finding').path).toBe('triggers');
  });

  it('reports unknown top-level keys with a suggestion', () => {
    expect(problemAbout(compile(`${VALID}prority: 5\n`), 'prority')).toMatchObject({ suggestion: 'priority', line: 10, column: 1 });
  });

  it('checks Security Hub custom action ids (≤ 20 letters and digits) and names (≤ 20 characters)', () => {
    const text = VALID.replace('  automatic: true', '  customAction: { id: Isolate-Instance-Right-Now, name: Isolate this instance right now }');

    const problems = compile(text);

    expect(problemAbout(problems, '1–20 letters and digits').path).toBe('triggers.customAction.id');
    expect(problemAbout(problems, 'at most 20 characters').path).toBe('triggers.customAction.name');
  });

  it('allows at most 50 custom actions across all playbooks', () => {
    const files = Array.from({ length: 51 }, (_, i) => ({
      path: `p${i}.yml`,
      text: VALID.replace('isolate-on-backdoor', `p-${i}`).replace('  automatic: true', `  customAction: { id: Action${i}, name: Action ${i} }`),
    }));

    const { problems } = compilePlaybookFiles(files);

    expect(problemAbout(problems, 'at most 50 per account and region').message).toContain('51 custom actions');
    expect(compilePlaybookFiles(files.slice(0, 50)).problems).toEqual([]);
  });

  it('refuses one custom action id with two names, and duplicate playbook ids', () => {
    const a = VALID.replace('  automatic: true', '  customAction: { id: IsolateEc2, name: Isolate instance }');
    const b = a.replace('isolate-on-backdoor', 'other').replace('Isolate instance', 'Quarantine');

    const { problems } = compilePlaybookFiles([
      { path: 'a.yml', text: a },
      { path: 'b.yml', text: b },
      { path: 'c.yml', text: a },
    ]);

    expect(problemAbout(problems, 'one action has one name')).toMatchObject({ file: 'b.yml', playbook: 'other' });
    expect(problemAbout(problems, 'is already the id of the playbook at a.yml:1')).toMatchObject({ file: 'c.yml' });
  });

  it('reports every problem of every file in one pass, with YAML syntax errors placed', () => {
    const { problems, playbooks } = compilePlaybookFiles([
      { path: 'good.yml', text: VALID },
      { path: 'syntax.yml', text: 'id: x\ntitle: [unclosed\n' },
      { path: 'two.yml', text: VALID.replace('ec2.isolate', 'ec2.isolat').replace('severity.label', 'severity.lable') },
      {
        path: 'list.yml',
        text: `- ${VALID.replace('isolate-on-backdoor', 'first').split('\n').join('\n  ')}\n- ${VALID.replace('isolate-on-backdoor', 'second').replace('HIGH', 'HIHG').split('\n').join('\n  ')}`,
      },
    ]);

    expect(playbooks.map((compiled) => compiled.playbook.id)).toEqual(['isolate-on-backdoor', 'first']);
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual(['syntax.yml:3', 'two.yml:7', 'two.yml:9', 'list.yml:17']);
    expect(problems.find((p) => p.file === 'list.yml')).toMatchObject({ path: '[1].match.severity.label[0]', playbook: 'second', suggestion: 'HIGH' });
  });

  it('throws one PlaybookCompileError carrying every problem', () => {
    const call = (): unknown => compilePlaybooks([{ path: 'x.yml', text: VALID.replace('ec2.isolate', 'ec2.isolat').replace('guardduty', '') }]);

    expect(call).toThrow(PlaybookCompileError);
    expect(call).toThrow(/2 problems in playbooks:\nx\.yml:/);
  });

  it('binds triggers: custom action and API branches beside the automatic one', () => {
    const text = VALID.replace('  automatic: true', '  automatic: true\n  customAction: IsolateEc2\n  api: true');

    const [compiled] = compilePlaybooks([{ path: 'p.yml', text }]);

    const conditions = compiled?.rule.conditions as { any: Array<{ all: unknown[] }> };
    expect(conditions.any).toHaveLength(3);
    expect(conditions.any[1]?.all.slice(0, 2)).toEqual([
      { fact: 'trigger.kind', operator: 'equal', value: 'custom-action' },
      { fact: 'trigger.actionId', operator: 'equal', value: 'IsolateEc2' },
    ]);
    // The API branch does not apply the match block: the request names the instance.
    expect(conditions.any[2]).toEqual({
      all: [
        { fact: 'trigger.kind', operator: 'equal', value: 'api' },
        {
          any: [
            { fact: 'trigger.playbook', operator: 'exists', value: false },
            { fact: 'trigger.playbook', operator: 'equal', value: 'isolate-on-backdoor' },
          ],
        },
      ],
    });
    expect(compiled?.playbook.triggers.customAction).toEqual({ id: 'IsolateEc2', name: 'IsolateEc2' });
    expect(compiled?.eventPatterns.at(-1)).toEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Custom Action'],
      resources: [{ suffix: ':action/custom/IsolateEc2' }],
    });
  });
});
