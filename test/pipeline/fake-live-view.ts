import type { InstanceFacts, LiveView, ResourceTags, SecurityGroupFacts } from '../../src/actions/index.js';
import type { Resource } from '../../src/intake/index.js';

/** A member account as a test decides it is: what a LiveView answers, and every id it was asked about. */
export interface FakeAccount {
  readonly instances?: Readonly<Record<string, Partial<InstanceFacts>>>;
  readonly groups?: Readonly<Record<string, Partial<SecurityGroupFacts>>>;
  /** Tags of resources no step acts on, by the finding's resource id. */
  readonly reported?: Readonly<Record<string, ResourceTags>>;
}

export interface FakeLiveView extends LiveView {
  /** `instance:i-…`, `security-group:sg-…`, `tags:<id>`, in the order asked. */
  readonly asked: string[];
}

/** A LiveView over `account`: an unknown id does not exist; an unknown reported resource has no tags. */
export function fakeLiveView(account: FakeAccount): FakeLiveView {
  const asked: string[] = [];
  return {
    asked,
    instance(instanceId: string): Promise<InstanceFacts | undefined> {
      asked.push(`instance:${instanceId}`);
      const facts = account.instances?.[instanceId];
      return Promise.resolve(facts === undefined ? undefined : { state: 'running', tags: {}, networkInterfaces: [], securityGroupIds: [], volumeIds: [], ...facts });
    },
    securityGroup(groupId: string): Promise<SecurityGroupFacts | undefined> {
      asked.push(`security-group:${groupId}`);
      const facts = account.groups?.[groupId];
      return Promise.resolve(facts === undefined ? undefined : { name: groupId, tags: {}, ...facts });
    },
    tags(resource: Resource): Promise<ResourceTags> {
      asked.push(`tags:${resource.id}`);
      return Promise.resolve(account.reported?.[resource.id] ?? { kind: 'tags', tags: {} });
    },
  };
}
