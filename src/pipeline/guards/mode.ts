import type { AutomaticMode } from '../../config.js';
import type { Finding } from '../../intake/index.js';
import type { RunMode } from '../../ledger/index.js';
import type { Playbook } from '../../playbooks/index.js';

/** How one playbook runs on one finding: for real, as a plan, or not at all (and why). */
export type ModeDecision = { readonly mode: RunMode; readonly reason: string } | { readonly mode: 'off'; readonly reason: string };

/**
 * The mode of one playbook on one finding, from the trigger, the
 * deployment's `automatic` setting and the playbook, checked in this order:
 * 1. an automatic delivery in a deployment with `automatic: off` does not run;
 * 2. a dry run asked of the pipeline (the CLI's `plan`) or by the request
 *    (an API call with `dryRun`) plans;
 * 3. a sample finding (GuardDuty's "Generate sample findings", Security
 *    Hub's sample products) plans, whoever asks, unless the playbook sets
 *    `allowSampleFindings: true`: a sample names resources that may exist;
 * 4. a playbook with `mode: plan` plans, whoever asks;
 * 5. an automatic delivery follows `automatic`: `enforce`, or `plan` (the default);
 * 6. a custom action or an API request is a person asking: it enforces,
 *    whatever `automatic` says — the setting governs only what runs unattended.
 */
export function decideMode(finding: Finding, playbook: Playbook, automatic: AutomaticMode, dryRun = false): ModeDecision {
  const trigger = finding.trigger;
  if (trigger.kind === 'automatic' && automatic === 'off') return { mode: 'off', reason: 'automatic remediation is off in this deployment' };
  if (dryRun) return { mode: 'plan', reason: 'a dry run was asked for' };
  if (trigger.kind === 'api' && trigger.dryRun) return { mode: 'plan', reason: 'the request asked for a dry run' };
  if (finding.sample !== undefined && !playbook.allowSampleFindings) {
    return { mode: 'plan', reason: `the finding is a sample (${finding.sample.reason}): plan only, nothing changes (playbook ${playbook.id} does not set allowSampleFindings: true)` };
  }
  if (playbook.mode === 'plan') return { mode: 'plan', reason: `playbook ${playbook.id} is plan-only (mode: plan)` };
  if (trigger.kind === 'automatic') {
    return automatic === 'enforce'
      ? { mode: 'enforce', reason: 'automatic remediation is enforced in this deployment' }
      : { mode: 'plan', reason: 'automatic remediation is plan-only in this deployment (automatic: plan)' };
  }
  return { mode: 'enforce', reason: trigger.kind === 'api' ? `requested by ${trigger.requestedBy.principal}` : `custom action ${trigger.actionId} chosen in Security Hub` };
}
