import type { PlaybookMatch } from '../engine/index.js';
import type { Finding, IntakeResult } from '../intake/index.js';
import { neutralise } from '../neutralise.js';
import type { PlaybookStep } from '../playbooks/index.js';

/**
 * The text a command prints is shown by a terminal: every line of it goes
 * through `neutralise`, so a finding's title, id or note (anyone who can
 * import a finding writes those) can neither send escape sequences nor
 * start a line of its own. (`--json` output is JSON, escaped by its writer.)
 */
export const terminalLines = (lines: readonly string[]): string => lines.map(neutralise).join('\n');

/** `riposte intake` lists this many rejections one by one, then counts the rest (`--json` keeps every one). */
export const MAX_LISTED_REJECTIONS = 20;

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
  return terminalLines(lines);
}

/**
 * What `riposte intake` prints: each finding, then each rejection — the
 * first {@link MAX_LISTED_REJECTIONS} one by one, the rest counted (one
 * event can carry tens of thousands of unreadable findings).
 */
export function describeIntakeResult(result: IntakeResult): string {
  const parts = result.findings.map(describeFinding);
  const listed = result.rejected.slice(0, MAX_LISTED_REJECTIONS);
  for (const error of listed) parts.push(terminalLines([`REJECTED ${error.message}`]));
  const more = result.rejected.length - listed.length;
  if (more > 0) parts.push(`REJECTED … and ${more} more finding${more === 1 ? '' : 's'} (--json lists every rejection)`);
  return parts.join('\n\n');
}

/** A matched playbook, why it matched, and the steps it would run. */
export function describeMatch(match: PlaybookMatch): string {
  const { playbook } = match.playbook;
  const lines = [`  matched    ${playbook.id} (${playbook.title})`];
  for (const condition of match.conditions) {
    lines.push(`    because  ${condition.fact} ${condition.operator} ${JSON.stringify(condition.value)} (was ${JSON.stringify(condition.factValue)})`);
  }
  playbook.steps.forEach((step, index) => lines.push(stepLine(step, index)));
  return terminalLines(lines);
}

/** One playbook step as a terminal line: its number, action, parameters and options. */
export function stepLine(step: PlaybookStep, index: number): string {
  const options = [...(step.concurrent ? ['beside the step before'] : []), ...(step.continueOnError ? ['continue on error'] : [])];
  return `    step ${index + 1}   ${step.action} ${JSON.stringify(step.params)}${options.length === 0 ? '' : ` (${options.join(', ')})`}`;
}
