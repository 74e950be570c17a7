import fc from 'fast-check';
import { Engine } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';

import { BUILT_IN_OPERATORS, compilePlaybookFiles, KNOWN_OPERATORS, OPERATOR_SEMANTICS } from '../../src/playbooks/index.js';
import { propertyTimeout, runs } from '../support/fast-check.js';

/*
 * Riposte registers its restatement of json-rules-engine's built-in
 * operators on every engine, so that the matcher's synchronous check and the
 * engine run one implementation (src/playbooks/operators.ts). These tests
 * hold the restatement to json-rules-engine's own operators, in an engine
 * whose defaults are untouched, on the values the two meet: fact values as
 * FIELDS reads them from a finding (text, number, list of texts, absent) and
 * condition values as the compiler lets through (a value or a list of values).
 */

const text = fc.constantFrom('IAM.15', 'IAM.1', '111122223333', '40', '4e1', '', 'Backdoor:EC2/', '  7', 'NaN', 'Infinity', '0x10');
const number = fc.oneof(fc.integer({ min: -5, max: 105 }), fc.constantFrom(0, 39.5, 70, 1e21));
const factValueArb = fc.oneof(text, number, fc.array(text, { maxLength: 3 }), fc.constant(undefined));
const scalar = fc.oneof(text, number, fc.boolean());
const conditionValueArb = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));

/** What json-rules-engine, with only its own built-in operators, decides for one condition. */
async function engineDecides(operator: string, factValue: unknown, value: unknown): Promise<boolean> {
  const engine = new Engine([{ conditions: { all: [{ fact: 'f', operator, value }] }, event: { type: 'held' } }], { allowUndefinedFacts: true });
  const { events } = await engine.run(factValue === undefined ? {} : { f: factValue });
  return events.length === 1;
}

describe('operator semantics', () => {
  it('has one implementation of every operator a playbook may use', () => {
    expect([...OPERATOR_SEMANTICS.keys()].sort()).toEqual([...KNOWN_OPERATORS].sort());
  });

  it(
    "restates json-rules-engine's built-in operators exactly",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...BUILT_IN_OPERATORS), factValueArb, conditionValueArb, async (operator, factValue, value) => {
          // json-rules-engine's `in` reads its value as a list: the compiler refuses any other (test below).
          if ((operator === 'in' || operator === 'notIn') && !Array.isArray(value)) return;
          const semantics = OPERATOR_SEMANTICS.get(operator);
          const ours = semantics !== undefined && semantics.accepts(factValue) && semantics.holds(factValue, value);

          expect(ours, `${operator} ${JSON.stringify(factValue)} ${JSON.stringify(value)}`).toBe(await engineDecides(operator, factValue, value));
        }),
        { numRuns: runs(2_000) },
      );
    },
    propertyTimeout(60_000),
  );

  it('the compiler refuses the values on which the restatement and the engine could part (a text for "in", a mapping for anything)', () => {
    const problems = (conditions: string): string[] =>
      compilePlaybookFiles([{ path: 'raw.yml', text: `id: raw\ntitle: t\ntriggers: { automatic: true }\nconditions: ${conditions}\nsteps:\n  - notify: {}\n` }]).problems.map(
        (problem) => `${problem.path}: ${problem.message}`,
      );

    expect(problems('{ fact: account, operator: in, value: "111122223333" }')).toEqual(['conditions.value: "in" needs a non-empty list, got string "111122223333"']);
    expect(problems('{ fact: account, operator: notIn, value: "111122223333" }')).toEqual(['conditions.value: "notIn" needs a list, got string "111122223333"']);
    // json-rules-engine would read { fact: region } as another fact's value, which no matcher computes for the rule.
    expect(problems('{ fact: account, operator: equal, value: { fact: region } }')).toEqual(['conditions.value: must be a value or a list of values, got a mapping']);
    expect(problems('{ fact: account, operator: in, value: [{ fact: region }] }')).toEqual(['conditions.value: must be a value or a list of values, got a list']);
  });
});
