import type { Finding } from '../intake/index.js';
import { fieldSpec, firstDisjunction, isFactCondition, necessaryConditions, type CompiledPlaybook, type Condition } from '../playbooks/index.js';

/**
 * Fields a playbook can be filed under, when one of its trigger branches
 * requires them: equality-like constraints (equal, in, contains,
 * containsAny) or prefixes. Most selective first: a control id narrows to a
 * few playbooks, a trigger kind to all of one kind.
 */
export const INDEX_FIELDS = [
  'trigger.actionId',
  'trigger.playbook',
  'control.id',
  'control.cisRules',
  'configRule.name',
  'types',
  'product.id',
  'resource.type',
  'source',
  'format',
  'account',
  'trigger.kind',
] as const;

interface Key {
  readonly field: string;
  readonly values: readonly string[];
  readonly prefix: boolean;
}

const label = (field: string, value: string, prefix: boolean): string => `${prefix ? '^' : '='}${field}\u0000${value}`;

/** Keys a conjunction of conditions could be filed under: each is a condition that must hold. */
function keysOf(condition: Condition): Key[] {
  const keys: Key[] = [];
  for (const { fact, operator, value } of necessaryConditions(condition)) {
    if (!(INDEX_FIELDS as readonly string[]).includes(fact)) continue;
    const strings = Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
    if ((operator === 'equal' || operator === 'contains') && typeof value === 'string') keys.push({ field: fact, values: [value], prefix: false });
    else if ((operator === 'in' || operator === 'containsAny') && strings !== undefined) keys.push({ field: fact, values: strings, prefix: false });
    else if (operator === 'prefix' && strings !== undefined) keys.push({ field: fact, values: strings, prefix: true });
  }
  return keys;
}

const branchesOf = (condition: Condition): readonly Condition[] => (!isFactCondition(condition) && 'any' in condition ? condition.any : [condition]);

/**
 * Maps discriminating fact values to the playbooks that can match them, so a
 * finding is evaluated only against its candidates. Sound by construction:
 * each trigger branch of a playbook is filed under a condition it requires —
 * or, when that is cheaper, each alternative of its `any` under a condition
 * that alternative requires — so a playbook left out could not have matched.
 */
export class PlaybookIndex {
  readonly #exact = new Map<string, Map<string, Set<number>>>();
  readonly #prefixes = new Map<string, { readonly byPrefix: Map<string, Set<number>>; readonly lengths: Set<number> }>();
  /** Playbooks with a branch no indexed condition guards: candidates for every finding. */
  readonly #always = new Set<number>();

  constructor(playbooks: readonly CompiledPlaybook[]) {
    const branches = playbooks.map((compiled) =>
      branchesOf(compiled.rule.conditions).map((branch) => ({
        keys: keysOf(branch),
        alternatives: (firstDisjunction(branch) ?? []).map((alternative) => [...keysOf(branch), ...keysOf(alternative)]),
      })),
    );
    // How many playbooks a (field, value) already selects.
    const popularity = new Map<string, number>();
    const count = (keys: readonly Key[]): void => {
      for (const key of keys) for (const value of key.values) popularity.set(label(key.field, value, key.prefix), (popularity.get(label(key.field, value, key.prefix)) ?? 0) + 1);
    };
    for (const perPlaybook of branches) for (const branch of perPlaybook) [branch.keys, ...branch.alternatives].forEach(count);
    // A key's score: how selective its field is in general (its rank), then the
    // largest bucket a finding could land in through it.
    const rank = (key: Key): number => (INDEX_FIELDS as readonly string[]).indexOf(key.field);
    const size = (key: Key): number => Math.max(...key.values.map((value) => popularity.get(label(key.field, value, key.prefix)) ?? 0));
    const better = (a: Key, b: Key): boolean => rank(a) < rank(b) || (rank(a) === rank(b) && size(a) < size(b));
    const best = (keys: readonly Key[]): Key | undefined => keys.reduce<Key | undefined>((found, key) => (found === undefined || better(key, found) ? key : found), undefined);

    branches.forEach((perPlaybook, position) => {
      for (const branch of perPlaybook) {
        const whole = best(branch.keys);
        const perAlternative = branch.alternatives.map(best);
        let chosen: Key[] = whole === undefined ? [] : [whole];
        if (perAlternative.length > 0 && perAlternative.every((key) => key !== undefined)) {
          const keys = perAlternative;
          const worstRank = Math.max(...keys.map(rank));
          const total = keys.reduce((sum, key) => sum + size(key), 0);
          if (whole === undefined || worstRank < rank(whole) || (worstRank === rank(whole) && total < size(whole))) chosen = keys;
        }
        if (chosen.length === 0) this.#always.add(position);
        for (const key of chosen) this.#file(key, position);
      }
    });
  }

  #file(key: Key, position: number): void {
    if (key.prefix) {
      const entry = this.#prefixes.get(key.field) ?? { byPrefix: new Map<string, Set<number>>(), lengths: new Set<number>() };
      for (const prefix of key.values) {
        entry.lengths.add(prefix.length);
        entry.byPrefix.set(prefix, (entry.byPrefix.get(prefix) ?? new Set<number>()).add(position));
      }
      this.#prefixes.set(key.field, entry);
      return;
    }
    const byValue = this.#exact.get(key.field) ?? new Map<string, Set<number>>();
    for (const value of key.values) byValue.set(value, (byValue.get(value) ?? new Set<number>()).add(position));
    this.#exact.set(key.field, byValue);
  }

  /** Positions (in the list given to the constructor) of the playbooks a finding could match, ascending. */
  candidates(finding: Finding): number[] {
    const found = new Set<number>(this.#always);
    const texts = (field: string): readonly string[] => {
      const fact = fieldSpec(field)?.read(finding);
      if (typeof fact === 'string') return [fact];
      return Array.isArray(fact) ? fact.filter((item): item is string => typeof item === 'string') : [];
    };
    for (const [field, byValue] of this.#exact) {
      for (const text of texts(field)) byValue.get(text)?.forEach((position) => found.add(position));
    }
    for (const [field, { byPrefix, lengths }] of this.#prefixes) {
      for (const text of texts(field)) {
        // Only the prefix lengths some playbook uses (an empty prefix is length 0).
        for (const length of lengths) {
          if (length <= text.length) byPrefix.get(text.slice(0, length))?.forEach((position) => found.add(position));
        }
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}
