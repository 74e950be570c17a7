import { customActionHandler } from '../src/lambda/index.js';

/** `Security Hub Findings - Custom Action` events (EventBridge → Lambda) → the playbooks bound to that action. */
export const handler = customActionHandler();
