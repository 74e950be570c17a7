/** One condition that was evaluated, with the fact value it saw: why a playbook matched (or did not). */
export interface ConditionOutcome {
  readonly fact: string;
  readonly operator: string;
  readonly value: unknown;
  readonly factValue: unknown;
  readonly result: boolean;
}

interface ResultNode {
  readonly fact?: string;
  readonly operator?: string;
  readonly value?: unknown;
  readonly factResult?: unknown;
  readonly result?: boolean;
  readonly all?: readonly ResultNode[];
  readonly any?: readonly ResultNode[];
  readonly not?: ResultNode;
}

/**
 * The conditions that decided a json-rules-engine result, with their fact
 * values (json-rules-engine keeps both on each evaluated condition). For a
 * match, the conditions that held along the branch that matched; branches
 * that were not evaluated or did not hold are left out.
 */
export function explain(conditions: unknown): ConditionOutcome[] {
  const out: ConditionOutcome[] = [];
  const walk = (node: ResultNode, negated: boolean): void => {
    if (node.fact !== undefined && node.operator !== undefined) {
      if (node.result === undefined) return;
      out.push({ fact: node.fact, operator: negated ? `not ${node.operator}` : node.operator, value: node.value, factValue: node.factResult, result: negated ? !node.result : node.result });
      return;
    }
    // What decided the outcome: for `all` that held, every child; for `any`
    // that held, the children that held. Under `not` the roles swap: a negated
    // `all` held because some child failed, a negated `any` because all did.
    const children = node.all ?? node.any;
    if (children !== undefined) {
      const everyChildDecides = (node.all !== undefined) !== negated;
      const deciding = everyChildDecides ? children : children.filter((child) => child.result === !negated);
      deciding.forEach((child) => walk(child, negated));
    } else if (node.not !== undefined) walk(node.not, !negated);
  };
  walk(conditions as ResultNode, false);
  return out;
}
