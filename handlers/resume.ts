import { resumeHandler } from '../src/lambda/index.js';

/** SQS batch of resume requests → `Pipeline.resume`, with partial batch failures. */
export const handler = resumeHandler();
