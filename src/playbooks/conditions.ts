/** A json-rules-engine condition on one fact. */
export interface FactCondition {
  readonly fact: string;
  readonly operator: string;
  readonly value: unknown;
}

/** json-rules-engine's condition tree, as the compiler writes it. */
export type Condition = FactCondition | { readonly all: readonly Condition[] } | { readonly any: readonly Condition[] } | { readonly not: Condition };

export const isFactCondition = (condition: Condition): condition is FactCondition => 'fact' in condition;

/** Every fact a condition tree reads. */
export function factNamesIn(condition: Condition, into = new Set<string>()): Set<string> {
  if (isFactCondition(condition)) into.add(condition.fact);
  else if ('all' in condition) condition.all.forEach((child) => factNamesIn(child, into));
  else if ('any' in condition) condition.any.forEach((child) => factNamesIn(child, into));
  else factNamesIn(condition.not, into);
  return into;
}

/**
 * The first `any` reached through `all` only: alternatives, one of which must
 * hold. What indexes and event patterns follow branch by branch.
 */
export function firstDisjunction(condition: Condition): readonly Condition[] | undefined {
  if (isFactCondition(condition)) return undefined;
  if ('any' in condition) return condition.any.length > 1 ? condition.any : undefined;
  if ('all' in condition) {
    for (const child of condition.all) {
      const found = firstDisjunction(child);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The fact conditions that must all hold for `condition` to hold: the leaves
 * reached through `all` only. What indexes and event patterns may narrow on.
 */
export function necessaryConditions(condition: Condition): FactCondition[] {
  if (isFactCondition(condition)) return [condition];
  if ('all' in condition) return condition.all.flatMap(necessaryConditions);
  if ('any' in condition && condition.any.length === 1) return necessaryConditions(condition.any[0] as Condition);
  return [];
}
