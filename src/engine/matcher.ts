import { Engine, type RuleProperties } from 'json-rules-engine';

import type { Finding } from '../intake/index.js';
import { ENGINE_OPERATORS, FIELD_NAMES, factsOf, type CompiledPlaybook } from '../playbooks/index.js';
import { compileConditionCheck, FindingFacts, type ConditionCheck } from './condition-check.js';
import { explain, type ConditionOutcome } from './explain.js';
import { PlaybookIndex } from './playbook-index.js';

/** A playbook that matched a finding, and why: the conditions that held, with the fact values they saw. */
export interface PlaybookMatch {
  readonly playbook: CompiledPlaybook;
  readonly conditions: readonly ConditionOutcome[];
}

export interface Matcher {
  /** The playbooks that match, highest priority first (then by id). */
  match(finding: Finding): Promise<PlaybookMatch[]>;
}

/**
 * An engine holding the given playbooks' rules, with Riposte's operators
 * registered: its own and the built-ins' restatement, the very functions the
 * matcher's compiled check runs (src/playbooks/operators.ts).
 */
export function createEngine(playbooks: readonly CompiledPlaybook[]): Engine {
  // Undefined facts are absent fields (a finding without a control): they fail
  // the conditions on them instead of aborting the run.
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const operator of ENGINE_OPERATORS) engine.addOperator(operator);
  for (const compiled of playbooks) engine.addRule(compiled.rule as unknown as RuleProperties);
  return engine;
}

const byPriorityThenId = (a: PlaybookMatch, b: PlaybookMatch): number => b.playbook.playbook.priority - a.playbook.playbook.priority || a.playbook.playbook.id.localeCompare(b.playbook.playbook.id);

async function run(engine: Engine, playbooks: ReadonlyMap<string, CompiledPlaybook>, facts: Record<string, unknown>): Promise<PlaybookMatch[]> {
  const { results } = await engine.run(facts);
  return results.map((result): PlaybookMatch => ({ playbook: playbooks.get(result.name) as CompiledPlaybook, conditions: explain(result.conditions) })).sort(byPriorityThenId);
}

/**
 * The reference: one json-rules-engine engine holding every rule, checking
 * every rule on each finding. Correct, and slow with many playbooks; the
 * indexed matcher is tested against it.
 */
export class NaiveMatcher implements Matcher {
  readonly #playbooks: ReadonlyMap<string, CompiledPlaybook>;
  readonly #engine: Engine;
  #running: Promise<unknown> = Promise.resolve();

  constructor(playbooks: readonly CompiledPlaybook[]) {
    this.#playbooks = new Map(playbooks.map((compiled) => [compiled.playbook.id, compiled]));
    this.#engine = createEngine(playbooks);
  }

  match(finding: Finding): Promise<PlaybookMatch[]> {
    // json-rules-engine keeps run state on the engine: runs on one engine go one at a time.
    const result = this.#running.then(() => run(this.#engine, this.#playbooks, factsOf(finding, FIELD_NAMES)));
    this.#running = result.catch(() => undefined);
    return result;
  }
}

interface CandidateEngine {
  readonly engine: Engine;
  readonly facts: readonly string[];
  readonly playbooks: ReadonlyMap<string, CompiledPlaybook>;
  busy: boolean;
}

/** How many distinct sets of surviving candidates keep a ready engine (each costs a few rules' memory). */
const ENGINE_CACHE_SIZE = 2_048;

export interface IndexedMatcherOptions {
  /** The index to take candidates from; by default one built from the playbooks (tests give a broken one on purpose). */
  readonly index?: PlaybookIndex;
}

/**
 * Three stages, each narrower than the last:
 * 1. the index names the playbooks a finding could match (its candidates);
 * 2. each candidate's compiled check decides, synchronously and with the
 *    engine's own operators, whether its rule holds;
 * 3. json-rules-engine runs the survivors' rules only, and keeps the final
 *    decision and the explanation.
 * Same semantics as `NaiveMatcher` (the differential test holds it to that).
 */
export class IndexedMatcher implements Matcher {
  readonly #playbooks: readonly CompiledPlaybook[];
  /** Each playbook's compiled check, compiled when it is first a candidate (most of a large library never is). */
  readonly #checks: (ConditionCheck | undefined)[];
  readonly #index: PlaybookIndex;
  readonly #engines = new Map<string, CandidateEngine>();

  constructor(playbooks: readonly CompiledPlaybook[], options: IndexedMatcherOptions = {}) {
    this.#playbooks = playbooks;
    this.#checks = new Array<ConditionCheck | undefined>(playbooks.length);
    this.#index = options.index ?? new PlaybookIndex(playbooks);
  }

  async match(finding: Finding): Promise<PlaybookMatch[]> {
    const candidates = this.#index.candidates(finding);
    if (candidates.length === 0) return [];
    const facts = new FindingFacts(finding);
    const survivors = candidates.filter((position) => this.#check(position)(facts));
    if (survivors.length === 0) return [];
    const key = survivors.join(',');
    let entry = this.#engines.get(key);
    if (entry === undefined || entry.busy) {
      const fresh = this.#build(survivors);
      // A busy cached engine is mid-run for another finding: use a fresh one rather than share it.
      if (entry === undefined) {
        if (this.#engines.size >= ENGINE_CACHE_SIZE) this.#engines.delete(this.#engines.keys().next().value as string);
        this.#engines.set(key, fresh);
      }
      entry = fresh;
    }
    entry.busy = true;
    try {
      return await run(entry.engine, entry.playbooks, facts.record(entry.facts));
    } finally {
      entry.busy = false;
    }
  }

  #check(position: number): ConditionCheck {
    return (this.#checks[position] ??= compileConditionCheck((this.#playbooks[position] as CompiledPlaybook).rule.conditions));
  }

  #build(positions: readonly number[]): CandidateEngine {
    const candidates = positions.map((position) => this.#playbooks[position] as CompiledPlaybook);
    const facts = new Set(candidates.flatMap((compiled) => compiled.facts));
    return {
      engine: createEngine(candidates),
      facts: [...facts],
      playbooks: new Map(candidates.map((compiled) => [compiled.playbook.id, compiled])),
      busy: false,
    };
  }
}
