import type { Partition } from '../aws-names.js';
import type { Resource } from '../intake/index.js';

/*
 * What a step acts on, as AWS says it is now — never as the finding says.
 * The pipeline resolves each step's target once, live, in the member
 * account; the exemption guard, the change limit, the plan and every
 * action then work from that one value (`targetResource` is how an action
 * sees it).
 */

/** What the guard learned of a resource's tags: its tags as they are now, or that the resource type has none. */
export type ResourceTags = { readonly kind: 'tags'; readonly tags: Readonly<Record<string, string>> } | { readonly kind: 'untaggable'; readonly reason: string };

/** An instance profile associated with an instance now, and the role it carries. */
export interface InstanceProfileFacts {
  readonly arn: string;
  readonly associationId: string;
  /** Absent when the profile carries no role (or no longer exists). */
  readonly role?: { readonly name: string; readonly arn: string };
}

/** One of an instance's network interfaces, as EC2 describes it now. */
export interface InterfaceFacts {
  readonly id: string;
  readonly securityGroupIds: readonly string[];
  readonly subnetId?: string;
  readonly vpcId?: string;
}

/** An instance as DescribeInstances and DescribeIamInstanceProfileAssociations read it. */
export interface InstanceFacts {
  /** `pending`, `running`, `stopping`, `stopped` (a terminated instance is not a target: it is stale). */
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly networkInterfaces: readonly InterfaceFacts[];
  /** Every group of every interface, without repeats. */
  readonly securityGroupIds: readonly string[];
  readonly volumeIds: readonly string[];
  /** The profile associated now (`associating` or `associated`); absent when there is none. */
  readonly profile?: InstanceProfileFacts;
}

/** A security group as DescribeSecurityGroups reads it. */
export interface SecurityGroupFacts {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly vpcId?: string;
}

interface TargetBase {
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  /** The id AWS gives it: `i-…`, `sg-…`, `AWS::::Account:<id>`, or, for a reported resource, the finding's id. */
  readonly id: string;
  /** Its ARN, built from what AWS answered: what change limits count. */
  readonly arn: string;
  /** Security Hub's type name: `AwsEc2Instance`, `AwsEc2SecurityGroup`, `AwsAccount`, … */
  readonly type: string;
  /** Its tags as read now (what the exemption guard checks), or why it has none. */
  readonly tags: ResourceTags;
}

/** An EC2 instance that exists now (not terminated), with its interfaces, volumes and profile. */
export interface InstanceTarget extends TargetBase {
  readonly kind: 'instance';
  readonly instance: InstanceFacts;
}

/** A security group that exists now. */
export interface SecurityGroupTarget extends TargetBase {
  readonly kind: 'security-group';
  readonly securityGroup: SecurityGroupFacts;
}

/** The member account itself (account settings such as the password policy). */
export interface AccountTarget extends TargetBase {
  readonly kind: 'account';
}

/**
 * A resource no step acts on, named by the finding, whose tags were read
 * live for the exemption guard: the subject of a playbook whose steps act
 * only on the finding record (notes, notifications), or of a step that
 * finds nothing of its kind in the finding.
 */
export interface ReportedTarget extends TargetBase {
  readonly kind: 'reported';
  /** The finding's resource, as intake read it (nothing resolved it: no step acts on it). */
  readonly resource: Resource;
}

export type ResolvedTarget = InstanceTarget | SecurityGroupTarget | AccountTarget | ReportedTarget;
export type ResolvedTargetKind = ResolvedTarget['kind'];

/**
 * The target as an action reads it (`ActionContext.resource`): every field
 * from what AWS answered — the instance id and interfaces, the group id,
 * the role of the profile associated when the run resolved it — and none
 * from the finding.
 */
export function targetResource(target: ResolvedTarget): Resource {
  const base = { account: target.account, region: target.region, partition: target.partition, ...(target.tags.kind === 'tags' ? { tags: target.tags.tags } : {}) };
  switch (target.kind) {
    case 'instance': {
      const { instance } = target;
      const profile = instance.profile;
      return {
        ...base,
        type: 'AwsEc2Instance',
        id: target.arn,
        arn: target.arn,
        instanceId: target.id,
        securityGroupIds: instance.securityGroupIds,
        ...(instance.vpcId === undefined ? {} : { vpcId: instance.vpcId }),
        ...(instance.subnetId === undefined ? {} : { subnetId: instance.subnetId }),
        networkInterfaces: instance.networkInterfaces.map((eni) => ({
          id: eni.id,
          ipv4Addresses: [],
          ipv6Addresses: [],
          securityGroupIds: eni.securityGroupIds,
          ...(eni.subnetId === undefined ? {} : { subnetId: eni.subnetId }),
          ...(eni.vpcId === undefined ? {} : { vpcId: eni.vpcId }),
        })),
        // Only the live association's role: with none, the action finds no role (and never the finding's).
        ...(profile === undefined ? {} : { iamRole: { instanceProfileArn: profile.arn, ...(profile.role === undefined ? {} : { name: profile.role.name, arn: profile.role.arn }) } }),
      };
    }
    case 'security-group':
      return {
        ...base,
        type: 'AwsEc2SecurityGroup',
        id: target.arn,
        arn: target.arn,
        securityGroupIds: [target.id],
        ...(target.securityGroup.vpcId === undefined ? {} : { vpcId: target.securityGroup.vpcId }),
        networkInterfaces: [],
      };
    case 'account':
      return { ...base, type: 'AwsAccount', id: target.id, securityGroupIds: [], networkInterfaces: [] };
    case 'reported':
      // Nothing resolved it, so it hands an action nothing to act on: no instance, group, interface or role id.
      return {
        ...base,
        type: target.type,
        id: target.resource.id,
        ...(target.resource.arn === undefined ? {} : { arn: target.resource.arn }),
        securityGroupIds: [],
        networkInterfaces: [],
      };
  }
}
