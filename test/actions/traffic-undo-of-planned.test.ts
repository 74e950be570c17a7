import { describe, expect, it } from 'vitest';

import { standbyInstance } from '../../src/actions/autoscaling-standby-instance.js';
import { deregisterInstance } from '../../src/actions/elb-deregister-instance.js';
import type { ActionContext, PlannedChange } from '../../src/actions/runtime.js';

/*
 * A retry that finds a change made by the attempt it retries (killed before
 * recording it) keeps the undo that attempt's plan gives (src/pipeline/execute.ts):
 * the Auto Scaling and load balancer actions turn their own plans' changes into
 * the undo their rollbacks take.
 */

const INSTANCE = 'i-0a1b2c3d4e5f60718';
const context = { runId: 'r-20261205T020000Z-000000000003', resource: { type: 'AwsEc2Instance', instanceId: INSTANCE, securityGroupIds: [], networkInterfaces: [] } } as unknown as ActionContext;
const WEB = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/a771732006c48a9b';
const ADMIN = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/admin/de72b9a75120439c';

describe('undoOfPlanned of the Auto Scaling and load balancer actions', () => {
  it('autoscaling.standby-instance: the group the plan would take the instance out of', () => {
    const planned: PlannedChange[] = [{ field: 'autoScalingGroups.web-prod-asg', from: 'InService', to: 'Standby' }];
    expect(standbyInstance.behaviour.undoOfPlanned?.(context, planned)).toEqual({ instanceId: INSTANCE, groupName: 'web-prod-asg', how: 'standby' });
    // A plan with nothing to take out (no group, already on Standby) gives nothing to restore.
    expect(standbyInstance.behaviour.undoOfPlanned?.(context, [])).toBeUndefined();
  });

  it('elb.deregister-instance: every target group with its ports, and every classic load balancer, the plan would deregister from', () => {
    const planned: PlannedChange[] = [
      { field: `targetGroups.${WEB}`, from: [80, 8080], to: [] },
      { field: `targetGroups.${ADMIN}`, from: [9000], to: [] },
      { field: 'classicLoadBalancers.legacy-web', from: 'registered', to: 'deregistered' },
    ];
    expect(deregisterInstance.behaviour.undoOfPlanned?.(context, planned)).toEqual({
      instanceId: INSTANCE,
      targetGroups: [
        { targetGroupArn: WEB, ports: [80, 8080] },
        { targetGroupArn: ADMIN, ports: [9000] },
      ],
      classicLoadBalancers: ['legacy-web'],
    });
    expect(deregisterInstance.behaviour.undoOfPlanned?.(context, [])).toBeUndefined();
  });
});
