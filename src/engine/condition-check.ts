import type { Finding } from '../intake/index.js';
import { fieldSpec, isFactCondition, OPERATOR_SEMANTICS, type Condition } from '../playbooks/index.js';

/**
 * A finding's facts, each read at most once however many rules ask for it:
 * what the compiled checks read, and what the engine is then given.
 */
export class FindingFacts {
  readonly #finding: Finding;
  readonly #values = new Map<string, unknown>();

  constructor(finding: Finding) {
    this.#finding = finding;
  }

  /** The fact's value; `undefined` for an absent fact or a name that is no field (as json-rules-engine sees an undefined fact). */
  get(name: string): unknown {
    if (this.#values.has(name)) return this.#values.get(name);
    const value = fieldSpec(name)?.read(this.#finding);
    this.#values.set(name, value);
    return value;
  }

  /** The named facts as json-rules-engine runtime facts: a null-prototype record, as `factsOf` gives. */
  record(names: readonly string[]): Record<string, unknown> {
    const facts = Object.create(null) as Record<string, unknown>;
    for (const name of names) if (fieldSpec(name) !== undefined) facts[name] = this.get(name);
    return facts;
  }
}

/** Whether a rule's conditions hold for a finding, decided synchronously. */
export type ConditionCheck = (facts: FindingFacts) => boolean;

const alwaysCandidate: ConditionCheck = () => true;

const decidable = (condition: Condition): boolean => {
  if (isFactCondition(condition)) return OPERATOR_SEMANTICS.has(condition.operator);
  if ('not' in condition) return decidable(condition.not);
  return ('all' in condition ? condition.all : condition.any).every(decidable);
};

function compile(condition: Condition): ConditionCheck {
  if (isFactCondition(condition)) {
    const semantics = OPERATOR_SEMANTICS.get(condition.operator);
    if (semantics === undefined) return alwaysCandidate;
    const { fact, value } = condition;
    return (facts) => {
      const factValue = facts.get(fact);
      return semantics.accepts(factValue) && semantics.holds(factValue, value);
    };
  }
  if ('not' in condition) {
    const inner = compile(condition.not);
    return (facts) => !inner(facts);
  }
  const all = 'all' in condition;
  const children = (all ? condition.all : condition.any).map(compile);
  // The engine: an empty list holds, one condition is that condition.
  if (children.length === 0) return alwaysCandidate;
  if (children.length === 1) return children[0] as ConditionCheck;
  return all ? (facts) => children.every((child) => child(facts)) : (facts) => children.some((child) => child(facts));
}

/**
 * Compiles a json-rules-engine condition tree into a synchronous predicate
 * that decides exactly as the engine does: the same operator functions
 * (`OPERATOR_SEMANTICS`, which every engine registers), `all` / `any` / `not`
 * combined as the engine combines them (an empty `all` or `any` holds in the
 * engine too). A tree the predicate cannot decide (an operator no engine
 * knows) is let through whole, for the engine to refuse as it always has:
 * the check only ever removes candidates that could not match.
 */
export function compileConditionCheck(condition: Condition): ConditionCheck {
  return decidable(condition) ? compile(condition) : alwaysCandidate;
}
