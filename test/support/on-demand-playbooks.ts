/**
 * One on-demand playbook as a YAML list item: a team's (its match names its
 * accounts) or the organisation's. The on-demand tests build their
 * libraries from these, each playbook with a step of its own where the
 * member account must show which one ran.
 */
export function onDemandPlaybook(id: string, title: string, match: string, options: { readonly api?: string; readonly step?: string } = {}): string {
  return `
- id: ${id}
  title: ${title}
  triggers: { api: ${options.api ?? 'true'} }
  match: ${match}
  steps:
    - ${options.step ?? 'ec2.enable-termination-protection'}: {}
`;
}

/** A team's on-demand playbook, restricted to its accounts. */
export const teamPlaybook = (team: string, accounts: readonly string[], options: { readonly step?: string } = {}): string =>
  onDemandPlaybook(`team-${team.toLowerCase()}-respond`, `Team ${team} on-demand response`, `{ account: [${accounts.map((account) => `"${account}"`).join(', ')}] }`, options);
