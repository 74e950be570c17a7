import type { ImplicitBinding } from './bindings.js';
import type { Condition } from './conditions.js';
import type { EventPattern } from './event-patterns.js';
import type { Position } from './source.js';

export interface CustomActionBinding {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
}

export interface PlaybookTriggers {
  readonly automatic: boolean;
  readonly customAction?: CustomActionBinding;
  /** May be started by the on-demand API (`POST /respond`, `riposte respond`), for requests its match accepts. */
  readonly api: boolean;
  /**
   * `triggers.api: { default: true }`: when an on-demand request names no
   * playbook and several API playbooks' matches accept it, this one runs
   * (if it is the only default among them).
   */
  readonly apiDefault: boolean;
}

export interface AccountExemption {
  readonly id: string;
  /** After this date (ISO), the exemption no longer protects. */
  readonly until?: string;
  readonly owner?: string;
}

export interface PlaybookStep {
  readonly action: string;
  /** Validated against the action's schema, defaults applied. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly continueOnError: boolean;
  /**
   * Starts with the step before it instead of after it: consecutive steps
   * marked so run side by side, as one group (independent changes, such as
   * isolation beside evidence). The next unmarked step waits for the group.
   */
  readonly concurrent: boolean;
}

/** A playbook after validation: every default applied, every name checked. */
export interface Playbook {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly triggers: PlaybookTriggers;
  readonly exempt: { readonly accounts: readonly AccountExemption[]; readonly tags: Readonly<Record<string, string>> };
  readonly steps: readonly PlaybookStep[];
  readonly priority: number;
  /** `plan`: never changes anything; `default`: as the trigger and deployment allow. */
  readonly mode: 'plan' | 'default';
  /** Whether sample findings may change anything (otherwise they run plan-only, with the reason recorded). */
  readonly allowSampleFindings: boolean;
  readonly limits?: { readonly maxResourcesPerHour: number };
}

/** A json-rules-engine rule, as the compiler writes it. */
export interface CompiledRule {
  readonly name: string;
  readonly priority: number;
  readonly conditions: Condition;
  readonly event: { readonly type: 'playbook-matched'; readonly params: { readonly playbookId: string } };
}

/** Everything derived from one playbook's source: runtime rule, delivery patterns and permissions. */
export interface CompiledPlaybook {
  readonly playbook: Playbook;
  readonly rule: CompiledRule;
  /** The facts the rule reads (the only ones a matcher needs to compute). */
  readonly facts: readonly string[];
  /**
   * For an API playbook, what its match requires of an on-demand request:
   * its conditions on the fields a request carries (`apiMatchOf`, see
   * src/playbooks/api-match.ts). Absent when it takes every request, or
   * takes none.
   */
  readonly apiMatch?: Condition;
  /** EventBridge patterns for the automatic and custom-action triggers. */
  readonly eventPatterns: readonly EventPattern[];
  /**
   * Conditions the compiler added to the match, binding it to trusted
   * products (control ids to Security Hub's own product; findings of custom
   * and third-party products only where the match names them), each with
   * its reason: what `riposte validate --verbose` prints.
   */
  readonly bindings: readonly ImplicitBinding[];
  readonly permissions: { readonly member: readonly string[]; readonly hosting: readonly string[] };
  readonly source: { readonly file: string } & Position;
}
