import type { AutomaticMode } from '../config.js';
import type { Finding } from '../intake/index.js';
import type { RunMode } from '../ledger/index.js';
import type { Playbook } from '../playbooks/index.js';

/** How one playbook runs on one finding: for real, as a plan, or not at all (and why). */
export type ModeDecision = { readonly mode: RunMode; readonly reason: string } | { readonly mode: 'off'; readonly reason: string };

/**
 * The mode, from the trigger, the deployment and the playbook — the most
 * cautious of them wins:
 * - automatic deliveries follow the deployment's `automatic` setting
 *   (`off`, `plan` — the default — or `enforce`);
 * - a custom action or an API request is a person asking: `enforce`, unless
 *   the request asks for a dry run;
 * - a playbook with `mode: plan` never changes anything;
 * - a dry run asked of the pipeline itself (the CLI's `plan`) plans.
 */
export function decideMode(finding: Finding, playbook: Playbook, automatic: AutomaticMode, dryRun = false): ModeDecision {
  const trigger = finding.trigger;
  if (trigger.kind === 'automatic' && automatic === 'off') return { mode: 'off', reason: 'automatic remediation is off in this deployment' };
  if (dryRun) return { mode: 'plan', reason: 'a dry run was asked for' };
  if (trigger.kind === 'api' && trigger.dryRun) return { mode: 'plan', reason: 'the request asked for a dry run' };
  if (playbook.mode === 'plan') return { mode: 'plan', reason: `playbook ${playbook.id} is plan-only (mode: plan)` };
  if (trigger.kind === 'automatic') {
    return automatic === 'enforce'
      ? { mode: 'enforce', reason: 'automatic remediation is enforced in this deployment' }
      : { mode: 'plan', reason: 'automatic remediation is plan-only in this deployment (automatic: plan)' };
  }
  return { mode: 'enforce', reason: trigger.kind === 'api' ? `requested by ${trigger.requestedBy.principal}` : `custom action ${trigger.actionId} chosen in Security Hub` };
}
