import { apiHandler } from '../src/lambda/index.js';

/** API Gateway REST (v1 proxy, IAM authorization): POST /respond, GET /runs/{id}, POST /runs/{id}/rollback. */
export const handler = apiHandler();
