import type { Finding } from '../intake/index.js';
import { fieldSpec, firstDisjunction, isFactCondition, type CompiledPlaybook, type Condition } from '../playbooks/index.js';

/**
 * The levels of the access path, in the order a finding descends them, and
 * the fields each keys on. A playbook's branch is filed under one key per
 * level, or under the level's "doesn't care" edge when it does not
 * constrain it (OPA's rule index works the same way), so a team's copy
 * restricted to its accounts is found only by findings in those accounts,
 * however many copies share its control id.
 *
 * - `trigger`: how the run was asked for.
 * - `discriminator`: the branch's most selective requirement, most
 *   selective field first (a control id narrows to a few playbooks, a
 *   product to many).
 * - `account`, `region`: where the finding is.
 *
 * Not indexed: `not`, numeric comparisons, and fields nearly every playbook
 * requires alike (`compliance.status`, `recordState`, `workflow`): the
 * compiled check (condition-check.ts) decides those.
 */
export const INDEX_LEVELS = ['trigger', 'discriminator', 'account', 'region'] as const;
export type IndexLevel = (typeof INDEX_LEVELS)[number];

const LEVEL_FIELDS: Readonly<Record<IndexLevel, readonly string[]>> = {
  trigger: ['trigger.kind'],
  discriminator: ['trigger.actionId', 'trigger.playbook', 'control.id', 'control.cisRules', 'configRule.name', 'types', 'product.id', 'resource.type', 'source', 'format'],
  account: ['account'],
  region: ['region'],
};

/** Every field the index keys on. */
export const INDEX_FIELDS: readonly string[] = INDEX_LEVELS.flatMap((level) => LEVEL_FIELDS[level]);

/** A requirement a branch can be filed under: one of `values` (or a text starting with one, for a prefix). */
export interface IndexKey {
  readonly field: string;
  readonly values: readonly string[];
  readonly prefix: boolean;
}

/** Where one way of matching a playbook is filed: a key per level, `undefined` for "doesn't care". */
export type AccessPath = readonly (IndexKey | undefined)[];

const LEVEL_OF: ReadonlyMap<string, IndexLevel> = new Map(INDEX_LEVELS.flatMap((level) => LEVEL_FIELDS[level].map((field): [string, IndexLevel] => [field, level])));
/** A discriminating field's rank: lower is more selective in general. */
const RANK: ReadonlyMap<string, number> = new Map(LEVEL_FIELDS.discriminator.map((field, rank) => [field, rank]));
const rankOf = (key: IndexKey): number => RANK.get(key.field) as number;

/**
 * Keys a conjunction of conditions could be filed under: each is a condition
 * that must hold (a leaf reached through `all` only, as `necessaryConditions`
 * finds them; walked here without building the list, for large libraries).
 */
function keysOf(condition: Condition, into: IndexKey[] = []): IndexKey[] {
  if (isFactCondition(condition)) {
    const { fact, operator, value } = condition;
    if (!LEVEL_OF.has(fact)) return into;
    if ((operator === 'equal' || operator === 'contains') && typeof value === 'string') into.push({ field: fact, values: [value], prefix: false });
    else if (operator === 'in' || operator === 'containsAny' || operator === 'prefix') {
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) into.push({ field: fact, values: value, prefix: operator === 'prefix' });
    }
  } else if ('all' in condition) for (const child of condition.all) keysOf(child, into);
  else if ('any' in condition && condition.any.length === 1) keysOf(condition.any[0] as Condition, into);
  return into;
}

const topBranchesOf = (condition: Condition): readonly Condition[] => (!isFactCondition(condition) && 'any' in condition ? condition.any : [condition]);

/**
 * The access paths of each playbook, by position: one per trigger branch,
 * or, when that is more selective, one per alternative of the branch's
 * first `any` (each requiring what the branch and that alternative
 * require). Sound by construction: every key of a path is a condition the
 * branch (or alternative) requires, so a finding that reaches none of a
 * playbook's paths cannot match it.
 */
export function accessPathsOf(playbooks: readonly CompiledPlaybook[], levels: readonly IndexLevel[] = INDEX_LEVELS): AccessPath[][] {
  // Walked twice rather than kept: at 50,000 playbooks, keeping every branch's keys between the passes costs more
  // in garbage collection than walking the conditions again.
  const branchesOf = (compiled: CompiledPlaybook): Array<{ keys: IndexKey[]; alternatives: IndexKey[][] }> =>
    topBranchesOf(compiled.rule.conditions).map((branch) => {
      const keys = keysOf(branch);
      return { keys, alternatives: (firstDisjunction(branch) ?? []).map((alternative) => keysOf(alternative, [...keys])) };
    });
  // How many branches a discriminating (field, value) already selects: of two equally ranked keys, the rarer wins.
  const popularity = new Map<string, Map<string, number>>();
  const countsOf = (key: IndexKey): Map<string, number> => {
    const name = `${key.prefix ? '^' : '='}${key.field}`;
    let counts = popularity.get(name);
    if (counts === undefined) popularity.set(name, (counts = new Map<string, number>()));
    return counts;
  };
  const count = (keys: readonly IndexKey[]): void => {
    for (const key of keys) {
      if (!RANK.has(key.field)) continue;
      const counts = countsOf(key);
      for (const value of key.values) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
  };
  for (const compiled of playbooks) {
    for (const branch of branchesOf(compiled)) {
      count(branch.keys);
      for (const keys of branch.alternatives) count(keys);
    }
  }
  const sizes = new WeakMap<IndexKey, number>();
  const size = (key: IndexKey): number => {
    let known = sizes.get(key);
    if (known === undefined) {
      const counts = countsOf(key);
      known = 0;
      for (const value of key.values) known = Math.max(known, counts.get(value) ?? 0);
      sizes.set(key, known);
    }
    return known;
  };
  const better = (a: IndexKey, b: IndexKey): boolean => rankOf(a) < rankOf(b) || (rankOf(a) === rankOf(b) && size(a) < size(b));
  const bestDiscriminator = (keys: readonly IndexKey[]): IndexKey | undefined => {
    let best: IndexKey | undefined;
    for (const key of keys) if (RANK.has(key.field) && (best === undefined || better(key, best))) best = key;
    return best;
  };
  // Trigger, account and region are texts (one value per finding): every exact requirement on one must hold, so
  // the path is filed under the values they all allow (none: the branch can never hold, and is filed nowhere).
  const required = (keys: readonly IndexKey[], level: IndexLevel): IndexKey | undefined => {
    let found: IndexKey | undefined;
    for (const key of keys) {
      if (key.prefix || LEVEL_OF.get(key.field) !== level) continue;
      found = found === undefined ? key : { ...found, values: found.values.filter((value) => key.values.includes(value)) };
    }
    return found;
  };
  const pathOf = (keys: readonly IndexKey[], discriminator: IndexKey | undefined): AccessPath => levels.map((level) => (level === 'discriminator' ? discriminator : required(keys, level)));
  const indexesDiscriminator = levels.includes('discriminator');

  return playbooks.map((compiled) =>
    branchesOf(compiled).flatMap((branch): AccessPath[] => {
      const whole = bestDiscriminator(branch.keys);
      if (indexesDiscriminator && branch.alternatives.length > 0) {
        const perAlternative = branch.alternatives.map(bestDiscriminator);
        if (perAlternative.every((key) => key !== undefined)) {
          const keys = perAlternative;
          const worstRank = Math.max(...keys.map(rankOf));
          const total = keys.reduce((sum, key) => sum + size(key), 0);
          if (whole === undefined || worstRank < rankOf(whole) || (worstRank === rankOf(whole) && total < size(whole))) {
            return branch.alternatives.map((alternative, position) => pathOf(alternative, keys[position]));
          }
        }
      }
      return [pathOf(branch.keys, whole)];
    }),
  );
}

/**
 * One level's edges: by exact value and by prefix, per field, and the
 * "doesn't care" edge; each made when first needed (most nodes have one
 * kind). `positions` holds the playbooks whose path cares about no level
 * from here on: a path stops where its last key is, not at the last level.
 */
class IndexNode {
  exact: Map<string, Map<string, IndexNode>> | undefined;
  prefixes: Map<string, { readonly byPrefix: Map<string, IndexNode>; readonly lengths: number[] }> | undefined;
  dontCare: IndexNode | undefined;
  positions: number[] | undefined;

  child(key: IndexKey | undefined, value: string): IndexNode {
    if (key === undefined) return (this.dontCare ??= new IndexNode());
    const byValue = key.prefix ? this.#prefixEdges(key.field, value) : this.#exactEdges(key.field);
    let node = byValue.get(value);
    if (node === undefined) byValue.set(value, (node = new IndexNode()));
    return node;
  }

  #exactEdges(field: string): Map<string, IndexNode> {
    this.exact ??= new Map();
    let byValue = this.exact.get(field);
    if (byValue === undefined) this.exact.set(field, (byValue = new Map<string, IndexNode>()));
    return byValue;
  }

  #prefixEdges(field: string, prefix: string): Map<string, IndexNode> {
    this.prefixes ??= new Map();
    let entry = this.prefixes.get(field);
    if (entry === undefined) this.prefixes.set(field, (entry = { byPrefix: new Map<string, IndexNode>(), lengths: [] }));
    if (!entry.lengths.includes(prefix.length)) entry.lengths.push(prefix.length);
    return entry.byPrefix;
  }

  /** Trims every list of positions to its length (a list grown by push keeps spare room). */
  compact(): void {
    if (this.positions !== undefined) this.positions = this.positions.slice();
    this.dontCare?.compact();
    for (const byValue of this.exact?.values() ?? []) for (const node of byValue.values()) node.compact();
    for (const { byPrefix } of this.prefixes?.values() ?? []) for (const node of byPrefix.values()) node.compact();
  }
}

/** The texts of a finding's field an exact or prefix key can meet: a text, or the texts of a list. */
function textsOf(finding: Finding, field: string): readonly string[] {
  const fact = fieldSpec(field)?.read(finding);
  if (typeof fact === 'string') return [fact];
  return Array.isArray(fact) ? fact.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * Maps where a finding is and what it is about to the playbooks that could
 * match it, so a finding is checked against its candidates only. A finding
 * descends every level along the edges its facts select and along the
 * "doesn't care" edges; the playbooks filed where it passes are its
 * candidates.
 */
export class PlaybookIndex {
  readonly #root = new IndexNode();
  /** A stamp per playbook, to collect each candidate once without a Set. */
  #seen = new Uint32Array(0);
  #generation = 0;

  constructor(playbooks: readonly CompiledPlaybook[], options: { readonly levels?: readonly IndexLevel[] } = {}) {
    this.#fileAll(accessPathsOf(playbooks, options.levels ?? INDEX_LEVELS));
  }

  /**
   * An index filed along the given paths instead of the ones derived from the
   * playbooks: for tests that break an index on purpose (a key dropped) and
   * check that the differential test notices.
   */
  static fromAccessPaths(paths: readonly (readonly AccessPath[])[]): PlaybookIndex {
    const index = new PlaybookIndex([]);
    index.#fileAll(paths);
    return index;
  }

  #fileAll(paths: readonly (readonly AccessPath[])[]): void {
    this.#seen = new Uint32Array(paths.length);
    paths.forEach((perPlaybook, position) => {
      for (const path of perPlaybook) this.#file(this.#root, path, 0, position);
    });
    this.#root.compact();
  }

  #file(node: IndexNode, path: AccessPath, level: number, position: number): void {
    let last = path.length - 1;
    while (last >= level && path[last] === undefined) last -= 1;
    if (last < level) {
      // Cares about no level from here: filed here (once, however many of its paths arrive).
      node.positions ??= [];
      if (node.positions.at(-1) !== position) node.positions.push(position);
      return;
    }
    const key = path[level];
    if (key === undefined) this.#file(node.child(undefined, ''), path, level + 1, position);
    else for (const value of key.values.length > 1 ? new Set(key.values) : key.values) this.#file(node.child(key, value), path, level + 1, position);
  }

  /** Positions (in the list given to the constructor) of the playbooks a finding could match, ascending. */
  candidates(finding: Finding): number[] {
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      this.#seen.fill(0);
      this.#generation = 1;
    }
    const found: number[] = [];
    const texts = new Map<string, readonly string[]>();
    const textsFor = (field: string): readonly string[] => {
      let cached = texts.get(field);
      if (cached === undefined) texts.set(field, (cached = textsOf(finding, field)));
      return cached;
    };
    const visit = (node: IndexNode): void => {
      if (node.positions !== undefined) {
        for (const position of node.positions) {
          if (this.#seen[position] !== this.#generation) {
            this.#seen[position] = this.#generation;
            found.push(position);
          }
        }
      }
      if (node.dontCare !== undefined) visit(node.dontCare);
      if (node.exact !== undefined) {
        for (const [field, byValue] of node.exact) {
          for (const text of textsFor(field)) {
            const next = byValue.get(text);
            if (next !== undefined) visit(next);
          }
        }
      }
      if (node.prefixes !== undefined) {
        for (const [field, { byPrefix, lengths }] of node.prefixes) {
          for (const text of textsFor(field)) {
            // Only the prefix lengths some playbook uses.
            for (const length of lengths) {
              if (length > text.length) continue;
              const next = byPrefix.get(text.slice(0, length));
              if (next !== undefined) visit(next);
            }
          }
        }
      }
    };
    visit(this.#root);
    return found.sort((a, b) => a - b);
  }
}
