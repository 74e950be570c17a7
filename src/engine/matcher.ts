import { Engine, type RuleProperties } from 'json-rules-engine';

import type { Finding } from '../intake/index.js';
import { CUSTOM_OPERATORS, FIELD_NAMES, factsOf, type CompiledPlaybook } from '../playbooks/index.js';
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

/** An engine holding the given playbooks' rules, with Riposte's operators registered. */
export function createEngine(playbooks: readonly CompiledPlaybook[]): Engine {
  // Undefined facts are absent fields (a finding without a control): they fail
  // the conditions on them instead of aborting the run.
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const operator of CUSTOM_OPERATORS) engine.addOperator(operator);
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

/** How many distinct candidate sets keep a ready engine (each costs a few rules' memory). */
const ENGINE_CACHE_SIZE = 2_048;

/**
 * Evaluates each finding with json-rules-engine against only the playbooks
 * the index names as candidates, computing only the facts those rules read.
 * Same semantics as `NaiveMatcher` (the differential test holds it to that).
 */
export class IndexedMatcher implements Matcher {
  readonly #playbooks: readonly CompiledPlaybook[];
  readonly #index: PlaybookIndex;
  readonly #engines = new Map<string, CandidateEngine>();

  constructor(playbooks: readonly CompiledPlaybook[]) {
    this.#playbooks = playbooks;
    this.#index = new PlaybookIndex(playbooks);
  }

  async match(finding: Finding): Promise<PlaybookMatch[]> {
    const positions = this.#index.candidates(finding);
    if (positions.length === 0) return [];
    const key = positions.join(',');
    let entry = this.#engines.get(key);
    if (entry === undefined || entry.busy) {
      const fresh = this.#build(positions);
      // A busy cached engine is mid-run for another finding: use a fresh one rather than share it.
      if (entry === undefined) {
        if (this.#engines.size >= ENGINE_CACHE_SIZE) this.#engines.delete(this.#engines.keys().next().value as string);
        this.#engines.set(key, fresh);
      }
      entry = fresh;
    }
    entry.busy = true;
    try {
      return await run(entry.engine, entry.playbooks, factsOf(finding, entry.facts));
    } finally {
      entry.busy = false;
    }
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
