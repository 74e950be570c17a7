import {
  AccessPointNotFoundException,
  DeregisterInstancesFromLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  paginateDescribeLoadBalancers,
  RegisterInstancesWithLoadBalancerCommand,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
  paginateDescribeTargetGroups,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { instanceIdOf } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, ActionOutcome, PlannedChange } from './runtime.js';
import { LoadBalancerDeregistrationError } from './traffic-errors.js';

const ACTION = 'elb.deregister-instance';
/** DescribeTargetGroups and DescribeLoadBalancers take up to 400 a page. */
const PAGE_SIZE = 400;
/** DescribeTargetHealth calls in flight at once, one per target group, within the member account's own bound. */
const HEALTH_READS = 10;

/** The instance's registrations in one target group: a target is an instance id and a port. */
export interface TargetGroupRegistration {
  readonly targetGroupArn: string;
  readonly ports: readonly number[];
}

/** Where the instance is registered now (or, in an undo, where the run deregistered it from). */
export interface Registrations {
  readonly targetGroups: readonly TargetGroupRegistration[];
  /** Classic load balancers, by name. */
  readonly classicLoadBalancers: readonly string[];
}

/** What rollback registers again: exactly what the run deregistered, ports included. */
export type DeregisterInstanceUndo = Registrations & { readonly instanceId: string };

const TARGET_FIELD = 'targetGroups.';
const CLASSIC_FIELD = 'classicLoadBalancers.';

const isGone = (error: unknown): boolean => error instanceof TargetGroupNotFoundException || error instanceof AccessPointNotFoundException;

/**
 * The ports on which `instanceId` is registered in the target group now:
 * every target DescribeTargetHealth lists with the instance's id, except
 * those draining (deregistration already in progress). Undefined when the
 * target group is gone.
 */
async function portsIn(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string, instanceId: string): Promise<number[] | undefined> {
  try {
    const { TargetHealthDescriptions: targets = [] } = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    const ports = targets
      .filter((target) => target.Target?.Id === instanceId && target.Target.Port !== undefined)
      .filter((target) => target.TargetHealth?.State !== 'draining' && target.TargetHealth?.Reason !== 'Target.NotRegistered')
      .map((target) => target.Target?.Port as number);
    return [...new Set(ports)].sort((a, b) => a - b);
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/**
 * Target groups that can name the instance: instance-type groups (ip-type
 * groups name addresses, not instances) in the instance's VPC (an instance
 * target must be in the target group's VPC).
 */
async function candidateTargetGroups(elbv2: ElasticLoadBalancingV2Client, vpcId: string | undefined): Promise<TargetGroup[]> {
  const groups: TargetGroup[] = [];
  for await (const page of paginateDescribeTargetGroups({ client: elbv2, pageSize: PAGE_SIZE }, {})) {
    for (const group of page.TargetGroups ?? []) {
      if (group.TargetGroupArn === undefined || (group.TargetType ?? 'instance') !== 'instance') continue;
      if (vpcId !== undefined && group.VpcId !== undefined && group.VpcId !== vpcId) continue;
      groups.push(group);
    }
  }
  return groups;
}

/** Every target group registration of the instance: the groups listed, then each group's targets read at once (bounded). */
async function targetGroupRegistrations(context: ActionContext, instanceId: string): Promise<TargetGroupRegistration[]> {
  const elbv2 = context.clients.create(ElasticLoadBalancingV2Client, context.target);
  const groups = await candidateTargetGroups(elbv2, context.resource.vpcId);
  const limit = pLimit(HEALTH_READS);
  const read = await Promise.all(
    groups.map((group) => limit(async () => ({ targetGroupArn: group.TargetGroupArn as string, ports: await portsIn(elbv2, group.TargetGroupArn as string, instanceId) }))),
  );
  return read.flatMap(({ targetGroupArn, ports }) => (ports === undefined || ports.length === 0 ? [] : [{ targetGroupArn, ports }]));
}

/** Every classic load balancer of the account and Region, each with the instances it lists. */
async function classicLoadBalancers(elb: ElasticLoadBalancingClient): Promise<LoadBalancerDescription[]> {
  const balancers: LoadBalancerDescription[] = [];
  for await (const page of paginateDescribeLoadBalancers({ client: elb, pageSize: PAGE_SIZE }, {})) balancers.push(...(page.LoadBalancerDescriptions ?? []));
  return balancers;
}

/** Classic load balancers whose description lists the instance (DescribeLoadBalancers carries each one's instances: no read per balancer). */
async function classicRegistrations(context: ActionContext, instanceId: string): Promise<string[]> {
  const elb = context.clients.create(ElasticLoadBalancingClient, context.target);
  const vpcId = context.resource.vpcId;
  const names: string[] = [];
  for (const balancer of await classicLoadBalancers(elb)) {
    if (balancer.LoadBalancerName === undefined) continue;
    if (vpcId !== undefined && balancer.VPCId !== undefined && balancer.VPCId !== vpcId) continue;
    if ((balancer.Instances ?? []).some((instance) => instance.InstanceId === instanceId)) names.push(balancer.LoadBalancerName);
  }
  return names.sort();
}

/** Both kinds of load balancer, read at the same time: two round trips (one for a listing only, when no target group can name the instance). */
async function registrations(context: ActionContext, instanceId: string): Promise<Registrations> {
  const [targetGroups, classicLoadBalancers] = await Promise.all([targetGroupRegistrations(context, instanceId), classicRegistrations(context, instanceId)]);
  return { targetGroups, classicLoadBalancers };
}

const isEmpty = (found: Registrations): boolean => found.targetGroups.length === 0 && found.classicLoadBalancers.length === 0;

/** One change per target group (its ports) and per classic load balancer. */
function changesOf(found: Registrations, registered: boolean): PlannedChange[] {
  return [
    ...found.targetGroups.map(({ targetGroupArn, ports }) => ({ field: `${TARGET_FIELD}${targetGroupArn}`, from: registered ? ports : [], to: registered ? [] : ports })),
    ...found.classicLoadBalancers.map((name) => ({ field: `${CLASSIC_FIELD}${name}`, from: registered ? 'registered' : 'deregistered', to: registered ? 'deregistered' : 'registered' })),
  ];
}

function entries(found: Registrations): string[] {
  return [
    ...found.targetGroups.map(({ targetGroupArn, ports }) => `target group ${targetGroupArn} (port${ports.length === 1 ? '' : 's'} ${ports.join(', ')})`),
    ...found.classicLoadBalancers.map((name) => `classic load balancer ${name}`),
  ];
}

const listed = (found: Registrations): string => entries(found).join('; ');

/** Runs each registration's call at once; what succeeded, what was gone already, and what failed. */
async function eachRegistration(
  found: Registrations,
  onTargetGroup: (registration: TargetGroupRegistration) => Promise<void>,
  onClassic: (name: string) => Promise<void>,
): Promise<{ done: Registrations; gone: string[]; failed: { from: string; error: unknown }[] }> {
  const settled = await Promise.allSettled([...found.targetGroups.map(onTargetGroup), ...found.classicLoadBalancers.map(onClassic)]);
  const sources = [...found.targetGroups.map((registration) => ({ registration, name: registration.targetGroupArn })), ...found.classicLoadBalancers.map((name) => ({ registration: name, name }))];
  const done: { targetGroups: TargetGroupRegistration[]; classicLoadBalancers: string[] } = { targetGroups: [], classicLoadBalancers: [] };
  const gone: string[] = [];
  const failed: { from: string; error: unknown }[] = [];
  settled.forEach((result, index) => {
    const { registration, name } = sources[index] as (typeof sources)[number];
    if (result.status === 'fulfilled') {
      if (typeof registration === 'string') done.classicLoadBalancers.push(registration);
      else done.targetGroups.push(registration);
    } else if (isGone(result.reason)) gone.push(name);
    else failed.push({ from: name, error: result.reason });
  });
  return { done, gone, failed };
}

/**
 * Deregisters the EC2 instance from every Elastic Load Balancing target
 * group that names it (on every port it is registered on) and from every
 * classic load balancer that lists it, so that no load balancer sends it
 * traffic or health-checks it once it is quarantined.
 *
 * Reads: DescribeTargetGroups (instance-type groups in the instance's VPC)
 * and DescribeLoadBalancers at once, then DescribeTargetHealth for each of
 * those target groups at once (ELBv2 has no look-up by target). A draining
 * target counts as deregistered. Changes: one DeregisterTargets per target
 * group (the instance id with each port: a target registered with a port
 * override is deregistered only by id and port) and one
 * DeregisterInstancesFromLoadBalancer per classic load balancer, all at
 * once. Three round trips on the containment path (more pages only past
 * 400 target groups or balancers).
 *
 * Rollback registers again exactly what the run deregistered, on the same
 * ports, where it is not registered already; a target group or load
 * balancer deleted since is named and skipped. An instance registered by
 * address in an ip-type target group is not found (the group names an IP
 * address, not the instance).
 *
 * ```yaml
 * - elb.deregister-instance: {}
 * ```
 */
export const deregisterInstance = defineAction({
  name: ACTION,
  description: 'Deregister the instance from every target group (all its ports) and classic load balancer that names it',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: [
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
      'elasticloadbalancing:DeregisterTargets',
      'elasticloadbalancing:RegisterTargets',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DeregisterInstancesFromLoadBalancer',
      'elasticloadbalancing:RegisterInstancesWithLoadBalancer',
    ],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const found = await registrations(context, instanceId);
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: isEmpty(found),
        summary: isEmpty(found)
          ? `instance ${instanceId}: registered with no target group or classic load balancer; nothing to deregister`
          : `instance ${instanceId}: would deregister from ${listed(found)}`,
        changes: changesOf(found, true),
      };
    },

    async run(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const resource = instanceArnOf(context, instanceId);
      // Read again, not the plan's reading: the state may have moved since.
      const found = await registrations(context, instanceId);
      if (isEmpty(found)) {
        return { action: ACTION, resource, changed: false, summary: `instance ${instanceId}: registered with no target group or classic load balancer; nothing changed`, changes: [] };
      }
      const elbv2 = context.clients.create(ElasticLoadBalancingV2Client, context.target);
      const elb = context.clients.create(ElasticLoadBalancingClient, context.target);
      const { done, gone, failed } = await eachRegistration(
        found,
        async ({ targetGroupArn, ports }) => {
          await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: ports.map((Port) => ({ Id: instanceId, Port })) }));
        },
        async (name) => {
          await elb.send(new DeregisterInstancesFromLoadBalancerCommand({ LoadBalancerName: name, Instances: [{ InstanceId: instanceId }] }));
        },
      );
      const stillThere = failed.filter(({ error }) => !(error instanceof InvalidTargetException));
      if (stillThere.length > 0) throw new LoadBalancerDeregistrationError(ACTION, context, instanceId, { done: entries(done), failed: stillThere });
      const skipped = [...gone, ...failed.map(({ from }) => from)];
      return {
        action: ACTION,
        resource,
        changed: !isEmpty(done),
        summary: `instance ${instanceId}: deregistered from ${isEmpty(done) ? 'nothing' : listed(done)}${skipped.length === 0 ? '' : `; no longer registered with ${skipped.join(', ')}`}`,
        changes: changesOf(done, true),
        ...(isEmpty(done) ? {} : { undo: { instanceId, ...done } satisfies DeregisterInstanceUndo }),
      };
    },

    async verify(context) {
      const instanceId = instanceIdOf(ACTION, context);
      const found = await registrations(context, instanceId);
      return {
        compliant: isEmpty(found),
        summary: isEmpty(found) ? `instance ${instanceId}: registered with no target group or classic load balancer` : `instance ${instanceId}: still registered with ${listed(found)}`,
      };
    },

    // The listings do not depend on the instance: read beside the run's target resolution, the plan reads only each target group's targets.
    async prefetch(context) {
      const elbv2 = context.clients.create(ElasticLoadBalancingV2Client, context.target);
      const elb = context.clients.create(ElasticLoadBalancingClient, context.target);
      await Promise.all([candidateTargetGroups(elbv2, undefined), classicLoadBalancers(elb)]);
    },

    undoOfPlanned(context, planned) {
      const targetGroups = planned.flatMap((change) =>
        change.field.startsWith(TARGET_FIELD) && Array.isArray(change.from) && change.from.every((port) => typeof port === 'number') && change.from.length > 0
          ? [{ targetGroupArn: change.field.slice(TARGET_FIELD.length), ports: change.from }]
          : [],
      );
      const classicLoadBalancers = planned.flatMap((change) => (change.field.startsWith(CLASSIC_FIELD) && change.from === 'registered' ? [change.field.slice(CLASSIC_FIELD.length)] : []));
      if (targetGroups.length === 0 && classicLoadBalancers.length === 0) return undefined;
      return { instanceId: instanceIdOf(ACTION, context), targetGroups, classicLoadBalancers };
    },

    async rollback(context, undo: DeregisterInstanceUndo): Promise<ActionOutcome<never>> {
      const { instanceId } = undo;
      const elbv2 = context.clients.create(ElasticLoadBalancingV2Client, context.target);
      const elb = context.clients.create(ElasticLoadBalancingClient, context.target);
      // What is missing now, read first: a registration already back is left as it is.
      const missingTargets = await Promise.all(
        undo.targetGroups.map(async ({ targetGroupArn, ports }) => {
          const now = await portsIn(elbv2, targetGroupArn, instanceId);
          return { targetGroupArn, ports: now === undefined ? ports : ports.filter((port) => !now.includes(port)), gone: now === undefined };
        }),
      );
      const missingClassic = await Promise.all(
        undo.classicLoadBalancers.map(async (name) => {
          try {
            const { LoadBalancerDescriptions: [balancer] = [] } = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
            return { name, missing: !(balancer?.Instances ?? []).some((instance) => instance.InstanceId === instanceId), gone: false };
          } catch (error) {
            if (isGone(error)) return { name, missing: false, gone: true };
            throw error;
          }
        }),
      );
      const toRegister: Registrations = {
        targetGroups: missingTargets.filter(({ gone, ports }) => !gone && ports.length > 0).map(({ targetGroupArn, ports }) => ({ targetGroupArn, ports })),
        classicLoadBalancers: missingClassic.filter(({ missing }) => missing).map(({ name }) => name),
      };
      const { done, gone, failed } = await eachRegistration(
        toRegister,
        async ({ targetGroupArn, ports }) => {
          await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: ports.map((Port) => ({ Id: instanceId, Port })) }));
        },
        async (name) => {
          await elb.send(new RegisterInstancesWithLoadBalancerCommand({ LoadBalancerName: name, Instances: [{ InstanceId: instanceId }] }));
        },
      );
      if (failed[0] !== undefined) throw failed[0].error;
      const deleted = [...missingTargets.filter((entry) => entry.gone).map((entry) => entry.targetGroupArn), ...missingClassic.filter((entry) => entry.gone).map((entry) => entry.name), ...gone];
      const deletedNote = deleted.length === 0 ? '' : `; deleted since, not restored: ${deleted.join(', ')}`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        changed: !isEmpty(done),
        summary: isEmpty(done)
          ? `instance ${instanceId}: already registered where the run had deregistered it${deletedNote}`
          : `instance ${instanceId}: registered again with ${listed(done)}${deletedNote}`,
        changes: changesOf(done, false),
      };
    },
  },
});
