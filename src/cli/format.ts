import type { PlaybookMatch } from '../engine/index.js';
import type { Finding, IntakeResult } from '../intake/index.js';

/** One finding as a responder wants to read it at a terminal. */
export function describeFinding(finding: Finding): string {
  const lines = [
    `${finding.severity.label} (${finding.severity.normalized}${finding.severity.basis === 'assumed' ? ', assumed' : ''}) ${finding.title}`,
    `  id         ${finding.id}`,
    `  from       ${finding.product.name} via ${finding.source} (${finding.format}), trigger ${finding.trigger.kind}`,
    `  where      account ${finding.account}, ${finding.region} (${finding.partition})`,
  ];
  if (finding.control !== undefined) {
    const cis = finding.control.cisRules.length > 0 ? `, CIS ${finding.control.cisRules.join(' ')}` : '';
    lines.push(`  control    ${finding.control.id}${cis}`);
  }
  if (finding.configRule !== undefined) lines.push(`  config     ${finding.configRule.name}`);
  if (finding.compliance !== undefined) lines.push(`  compliance ${finding.compliance.status}`);
  lines.push(`  state      workflow ${finding.workflow}, record ${finding.recordState}`);
  for (const resource of finding.resources) {
    const extra = [
      resource.instanceId,
      ...resource.securityGroupIds,
      resource.iamRole?.name ?? resource.iamRole?.instanceProfileArn,
      resource.tags === undefined ? undefined : `${Object.keys(resource.tags).length} tags`,
    ].filter((part) => part !== undefined);
    lines.push(`  resource   ${resource.type} ${resource.id}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`);
  }
  if (finding.note !== undefined) lines.push(`  note       "${finding.note.text}"${finding.note.updatedBy === undefined ? '' : ` by ${finding.note.updatedBy}`}`);
  return lines.join('\n');
}

export function describeIntakeResult(result: IntakeResult): string {
  const parts = result.findings.map(describeFinding);
  for (const error of result.rejected) parts.push(`REJECTED ${error.message}`);
  return parts.join('\n\n');
}

/** A matched playbook, why it matched, and the steps it would run. */
export function describeMatch(match: PlaybookMatch): string {
  const { playbook } = match.playbook;
  const lines = [`  matched    ${playbook.id} (${playbook.title})`];
  for (const condition of match.conditions) {
    lines.push(`    because  ${condition.fact} ${condition.operator} ${JSON.stringify(condition.value)} (was ${JSON.stringify(condition.factValue)})`);
  }
  playbook.steps.forEach((step, index) => lines.push(`    step ${index + 1}   ${step.action} ${JSON.stringify(step.params)}${step.continueOnError ? ' (continue on error)' : ''}`));
  return lines.join('\n');
}
