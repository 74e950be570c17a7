import type { Finding } from '../intake/index.js';
import { FIELDS, isFactCondition, necessaryConditions, type CompiledPlaybook, type Condition } from '../playbooks/index.js';

/**
 * Fields a playbook is indexed by, when one of its trigger branches requires
 * them. Equality-like constraints only (equal, in, contains, containsAny),
 * plus `types` prefixes.
 */
export const INDEX_FIELDS = [
  'trigger.actionId',
  'trigger.playbook',
  'control.id',
  'configRule.name',
  'product.id',
  'resource.type',
  'source',
  'format',
  'trigger.kind',
] as const;
const PREFIX_FIELD = 'types';

interface Key {
  readonly field: string;
  readonly values: readonly string[];
  readonly prefix: boolean;
}

/** The keys one trigger branch could be indexed by: each is a condition that must hold for the branch. */
function candidateKeys(branch: Condition): Key[] {
  const keys: Key[] = [];
  for (const condition of necessaryConditions(branch)) {
    const { fact, operator, value } = condition;
    const strings = Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
    if ((INDEX_FIELDS as readonly string[]).includes(fact)) {
      if ((operator === 'equal' || operator === 'contains') && typeof value === 'string') keys.push({ field: fact, values: [value], prefix: false });
      else if ((operator === 'in' || operator === 'containsAny') && strings !== undefined) keys.push({ field: fact, values: strings, prefix: false });
    } else if (fact === PREFIX_FIELD && operator === 'prefix' && strings !== undefined) {
      keys.push({ field: fact, values: strings, prefix: true });
    }
  }
  return keys;
}

function branchesOf(condition: Condition): readonly Condition[] {
  return !isFactCondition(condition) && 'any' in condition ? condition.any : [condition];
}

/**
 * Maps discriminating fact values to the playbooks that can match them, so a
 * finding is evaluated only against its candidates. Sound by construction: a
 * playbook is filed under a condition its branch requires, in every branch,
 * so a playbook left out could not have matched.
 */
export class PlaybookIndex {
  readonly #exact = new Map<string, Map<string, Set<number>>>();
  readonly #prefixes = new Map<string, Set<number>>();
  #maxPrefixLength = 0;
  /** Playbooks with a branch no index field constrains: candidates for every finding. */
  readonly #always = new Set<number>();

  constructor(playbooks: readonly CompiledPlaybook[]) {
    const perBranch = playbooks.map((compiled) => branchesOf(compiled.rule.conditions).map(candidateKeys));
    // How many branches each (field, value) already selects: prefer the rarest key.
    const popularity = new Map<string, number>();
    const label = (field: string, value: string, prefix: boolean): string => `${prefix ? '^' : '='}${field}\u0000${value}`;
    for (const branches of perBranch) {
      for (const keys of branches) for (const key of keys) for (const value of key.values) popularity.set(label(key.field, value, key.prefix), (popularity.get(label(key.field, value, key.prefix)) ?? 0) + 1);
    }
    perBranch.forEach((branches, position) => {
      for (const keys of branches) {
        let best: Key | undefined;
        let bestCost = Number.POSITIVE_INFINITY;
        for (const key of keys) {
          const cost = key.values.reduce((sum, value) => sum + (popularity.get(label(key.field, value, key.prefix)) ?? 0), 0);
          if (cost < bestCost) {
            best = key;
            bestCost = cost;
          }
        }
        if (best === undefined) this.#always.add(position);
        else if (best.prefix) {
          for (const prefix of best.values) {
            this.#maxPrefixLength = Math.max(this.#maxPrefixLength, prefix.length);
            const set = this.#prefixes.get(prefix) ?? new Set<number>();
            set.add(position);
            this.#prefixes.set(prefix, set);
          }
        } else {
          const byValue = this.#exact.get(best.field) ?? new Map<string, Set<number>>();
          for (const value of best.values) {
            const set = byValue.get(value) ?? new Set<number>();
            set.add(position);
            byValue.set(value, set);
          }
          this.#exact.set(best.field, byValue);
        }
      }
    });
  }

  /** Positions (in the list given to the constructor) of the playbooks a finding could match, ascending. */
  candidates(finding: Finding): number[] {
    const found = new Set<number>(this.#always);
    for (const [field, byValue] of this.#exact) {
      const fact = FIELDS[field]?.read(finding);
      if (typeof fact === 'string') byValue.get(fact)?.forEach((position) => found.add(position));
      else if (Array.isArray(fact)) for (const item of fact) if (typeof item === 'string') byValue.get(item)?.forEach((position) => found.add(position));
    }
    if (this.#prefixes.size > 0) {
      const types = FIELDS[PREFIX_FIELD]?.read(finding);
      for (const type of Array.isArray(types) ? (types as unknown[]) : []) {
        if (typeof type !== 'string') continue;
        for (let length = 1; length <= Math.min(type.length, this.#maxPrefixLength); length += 1) {
          this.#prefixes.get(type.slice(0, length))?.forEach((position) => found.add(position));
        }
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}
