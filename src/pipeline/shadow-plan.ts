import type { AutomaticMode } from '../config.js';
import type { ConditionOutcome, Matcher } from '../engine/index.js';
import type { Finding, InvalidFindingError } from '../intake/index.js';
import type { PlaybookStep } from '../playbooks/index.js';
import { accountExemption } from './guards/exemption.js';
import { findingSkip } from './guards/finding.js';
import { decideMode } from './guards/mode.js';

/**
 * Shadow replay: what the playbooks would do to findings, decided offline
 * (no AWS call, no ledger) by the pipeline's own guards that depend on the
 * finding alone — the finding guard (closed, Riposte's own update), the
 * mode (automatic setting, sample findings, plan-only playbooks) and the
 * account exemptions. What needs the member account (a resource's
 * exemption tags, the live target, change limits) is decided when a run
 * resolves its target; the plan says so rather than guessing.
 */

/** One playbook a finding matches, and what it would do there. */
export interface ShadowPlaybook {
  readonly playbook: string;
  readonly title: string;
  /** The conditions that made it match, with the finding's values. */
  readonly because: readonly ConditionOutcome[];
  /** `act`: it would change things; `plan`: it would only plan; `skip`: it would not run. */
  readonly decision: 'act' | 'plan' | 'skip';
  readonly reason: string;
  readonly steps: readonly PlaybookStep[];
}

/** One finding as the replay saw it. */
export interface ShadowFinding {
  readonly id: string;
  readonly source: string;
  readonly account: string;
  readonly region: string;
  readonly title: string;
  /** The resources the finding names (each run resolves and checks its target live). */
  readonly resources: readonly string[];
  /** Why no playbook is considered at all (closed, Riposte's own update). */
  readonly skipped?: string;
  readonly playbooks: readonly ShadowPlaybook[];
}

export interface ShadowSettings {
  /** The `automatic` setting to replay under: `enforce` answers "what if it were turned on". */
  readonly automatic: AutomaticMode;
  readonly excludedAccounts: readonly string[];
  readonly now: Date;
}

/** A replay never knows Riposte's runs: a note naming a run is taken at its word as Riposte's own (the safe reading). */
const noLedger = (): Promise<boolean> => Promise.resolve(true);

/** What the playbooks would do to one finding. */
export async function shadowPlan(finding: Finding, matcher: Matcher, settings: ShadowSettings): Promise<ShadowFinding> {
  const base = {
    id: finding.id,
    source: finding.source,
    account: finding.account,
    region: finding.region,
    title: finding.title,
    resources: [...new Set(finding.resources.map((resource) => resource.id))],
  };
  const skip = await findingSkip(finding, noLedger);
  const matches = await matcher.match(finding);
  const playbooks = matches.map(({ playbook: compiled, conditions }): ShadowPlaybook => {
    const { playbook } = compiled;
    const common = { playbook: playbook.id, title: playbook.title, because: conditions.filter((condition) => condition.result), steps: playbook.steps };
    if (skip !== undefined) return { ...common, decision: 'skip', reason: skip.reason };
    const exemption = accountExemption(playbook.exempt.accounts, settings.excludedAccounts, finding.account, settings.now);
    if (exemption.exempt) return { ...common, decision: 'skip', reason: exemption.reason };
    const mode = decideMode(finding, playbook, settings.automatic);
    if (mode.mode === 'off') return { ...common, decision: 'skip', reason: mode.reason };
    return { ...common, decision: mode.mode === 'enforce' ? 'act' : 'plan', reason: mode.reason };
  });
  return { ...base, ...(skip === undefined ? {} : { skipped: skip.reason }), playbooks };
}

/** Per playbook: what it would have done over the replayed findings. */
export interface PlaybookReplay {
  readonly playbook: string;
  readonly matched: number;
  /** Findings it would act on (change things), and those it would only plan. */
  readonly act: number;
  readonly plan: number;
  readonly accounts: readonly string[];
  /** Resources it would change, and those it would skip, with the reason. */
  readonly resources: readonly string[];
  readonly skipped: ReadonlyArray<{ readonly resource: string; readonly finding: string; readonly reason: string }>;
}

export interface ReplaySummary {
  readonly findings: number;
  /** Findings no playbook matches. */
  readonly unmatched: number;
  readonly unmatchedFindings: readonly string[];
  /** Events or findings intake could not read. */
  readonly rejected: number;
  readonly playbooks: readonly PlaybookReplay[];
}

interface Tally {
  matched: number;
  act: number;
  plan: number;
  readonly accounts: Set<string>;
  readonly resources: Set<string>;
  readonly skipped: Array<{ resource: string; finding: string; reason: string }>;
}

/** The replay's summary, counted as findings are planned (so 10,000 findings need not all be kept). */
export class ReplayTally {
  #findings = 0;
  #rejected = 0;
  readonly #unmatched: string[] = [];
  readonly #playbooks = new Map<string, Tally>();

  add(shadow: ShadowFinding): void {
    this.#findings += 1;
    if (shadow.playbooks.length === 0) this.#unmatched.push(shadow.id);
    for (const planned of shadow.playbooks) {
      let tally = this.#playbooks.get(planned.playbook);
      if (tally === undefined) {
        tally = { matched: 0, act: 0, plan: 0, accounts: new Set(), resources: new Set(), skipped: [] };
        this.#playbooks.set(planned.playbook, tally);
      }
      tally.matched += 1;
      if (planned.decision === 'skip') {
        for (const resource of shadow.resources) tally.skipped.push({ resource, finding: shadow.id, reason: planned.reason });
        continue;
      }
      tally[planned.decision] += 1;
      tally.accounts.add(shadow.account);
      if (planned.decision === 'act') shadow.resources.forEach((resource) => tally.resources.add(resource));
    }
  }

  reject(errors: readonly InvalidFindingError[] | number): void {
    this.#rejected += typeof errors === 'number' ? errors : errors.length;
  }

  summary(): ReplaySummary {
    const playbooks = [...this.#playbooks]
      .map(([playbook, tally]): PlaybookReplay => ({
        playbook,
        matched: tally.matched,
        act: tally.act,
        plan: tally.plan,
        accounts: [...tally.accounts].sort(),
        resources: [...tally.resources].sort(),
        skipped: tally.skipped,
      }))
      .sort((a, b) => (a.playbook < b.playbook ? -1 : a.playbook > b.playbook ? 1 : 0));
    return { findings: this.#findings, unmatched: this.#unmatched.length, unmatchedFindings: [...this.#unmatched], rejected: this.#rejected, playbooks };
  }
}
