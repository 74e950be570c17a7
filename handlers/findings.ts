import { findingsHandler } from '../src/lambda/index.js';

/** SQS batch of EventBridge finding events → the pipeline, with partial batch failures. */
export const handler = findingsHandler();
