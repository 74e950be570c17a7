import { recordRetryHandler } from '../src/lambda/index.js';

/** SQS batch of record-retry requests → the finding's note and workflow written again, with partial batch failures. */
export const handler = recordRetryHandler();
