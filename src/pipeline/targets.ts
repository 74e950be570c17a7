import type { ActionContext, ActionDefinition } from '../actions/index.js';
import type { MemberTarget } from '../aws/index.js';
import type { Finding, Resource } from '../intake/index.js';
import type { PipelineServices } from './types.js';

/** Resource types each action target acts on, most specific first. */
const fits: Record<ActionDefinition['target'], (resource: Resource) => boolean> = {
  instance: (resource) => resource.instanceId !== undefined,
  'security-group': (resource) => resource.type === 'AwsEc2SecurityGroup' || (resource.type !== 'AwsEc2Instance' && resource.securityGroupIds.length > 0),
  account: (resource) => resource.type === 'AwsAccount',
  finding: () => true,
};

/** The account itself as a resource, for account-level actions on findings that name none. */
function accountResource(finding: Finding): Resource {
  return {
    type: 'AwsAccount',
    id: `AWS::::Account:${finding.account}`,
    account: finding.account,
    region: finding.region,
    partition: finding.partition,
    securityGroupIds: [],
    networkInterfaces: [],
  };
}

/**
 * The resource a step acts on: the finding's first resource its action can
 * act on (an instance for `ec2.*` instance actions, the group for security
 * group actions, the account for account settings). When none fits, the
 * finding's first resource: the action then says what it could not find.
 */
export function resourceForStep(finding: Finding, action: ActionDefinition): Resource {
  const found = finding.resources.find(fits[action.target]);
  if (found !== undefined) return found;
  if (action.target === 'account') return accountResource(finding);
  return finding.resources[0] ?? accountResource(finding);
}

/**
 * The resource a playbook run is guarded on (exemption tags, change limits):
 * the resource of its first step that acts on something other than the
 * finding record itself.
 */
export function primaryResource(finding: Finding, actions: readonly ActionDefinition[]): Resource {
  const acting = actions.find((action) => action.target !== 'finding');
  return acting === undefined ? (finding.resources[0] ?? accountResource(finding)) : resourceForStep(finding, acting);
}

/** A stable name for a resource across deliveries and accounts: what change limits count. */
export function resourceKey(resource: Resource): string {
  return resource.arn ?? `${resource.account}/${resource.region}/${resource.id}`;
}

/** Where a finding's steps act: its member account and region, under the run's correlation id (which names the role session). */
export function memberTarget(finding: Finding, correlationId: string): MemberTarget {
  return { account: finding.account, region: finding.region, partition: finding.partition, correlationId };
}

/** The context one step of a run (or of its rollback) acts in. */
export function stepContext(
  services: PipelineServices,
  finding: Finding,
  action: ActionDefinition,
  run: { readonly runId: string; readonly correlationId: string; readonly playbookId: string },
): ActionContext {
  return {
    clients: services.clients,
    hosting: services.hosting,
    target: memberTarget(finding, run.correlationId),
    finding,
    resource: resourceForStep(finding, action),
    runId: run.runId,
    playbookId: run.playbookId,
  };
}
