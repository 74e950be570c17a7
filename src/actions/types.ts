import type * as z from '../zod.js';

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

/** Which part of an action's behaviour a step runs. */
export type StepPhase = 'plan' | 'run' | 'verify' | 'rollback';

/**
 * An action: its name, parameter schema, target and permissions (what the
 * playbook compiler checks and the member role grants), and its behaviour.
 */
export interface ActionDefinition<Params extends z.ZodMiniType = z.ZodMiniType, Undo = unknown> {
  /** `family.verb-object`, e.g. `ec2.isolate`. */
  readonly name: string;
  readonly description: string;
  /**
   * Strict: an unknown parameter is a compile error, not a silently ignored option.
   * A `ZodMiniType` rather than zod's core type: the playbook compiler and each step call its `safeParse`.
   */
  readonly params: Params;
  readonly target: ActionTarget;
  readonly permissions: ActionPermissions;
  /** Whether the action changes anything (false for evidence capture, notification). */
  readonly changesResources: boolean;
  /** plan / run / verify, and rollback where what it changes can be undone. */
  readonly behaviour: ActionBehaviour<z.output<Params>, Undo>;
}
