import { actionTargetsHandler } from '../src/deploy/index.js';

/** CloudFormation custom resource `Custom::SecurityHubActionTargets`: the playbooks' Security Hub custom actions. */
export const handler = actionTargetsHandler();
