import type { z } from 'zod';

import type { ActionBehaviour } from './runtime.js';

/** What an action changes or reads: the resource its steps are planned against. */
export const ActionTarget = {
  Account: 'account',
  Instance: 'instance',
  SecurityGroup: 'security-group',
  Finding: 'finding',
} as const;
export type ActionTarget = (typeof ActionTarget)[keyof typeof ActionTarget];

/**
 * The IAM actions an action needs, by where it runs: `member` in the member
 * account's role (generated into that role's policy), `hosting` in
 * Riposte's own account (Security Hub, SNS, the evidence bucket).
 */
export interface ActionPermissions {
  readonly member: readonly string[];
  readonly hosting: readonly string[];
}

/**
 * An action as the playbook compiler sees it: its name, parameter schema,
 * target and permissions. Behaviour (`plan`, `run`, `verify`, `rollback`)
 * is added to the same definition when the action is implemented.
 */
export interface ActionDefinition<Params extends z.ZodType = z.ZodType, Undo = unknown> {
  /** `family.verb-object`, e.g. `ec2.isolate`. */
  readonly name: string;
  readonly description: string;
  /** Strict: an unknown parameter is a compile error, not a silently ignored option. */
  readonly params: Params;
  readonly target: ActionTarget;
  readonly permissions: ActionPermissions;
  /** Whether the action changes anything (false for evidence capture, notification). */
  readonly changesResources: boolean;
  /** Whether `rollback()` can undo it. */
  readonly reversible: boolean;
  /** plan / run / verify / rollback, for the actions implemented so far. */
  readonly behaviour?: ActionBehaviour<z.output<Params>, Undo>;
}
