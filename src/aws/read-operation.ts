/**
 * Whether an AWS operation only reads: AWS names its reads so (Describe…,
 * Get…, List…, Head…, Lookup…, Search…, BatchGet…). Anything else may
 * change something. The run's shared reads (run-read-memo.ts) and the test
 * harness's replayed accounts (src/cli/aws-replay.ts) both go by it.
 */
export const isReadOperation = (operation: string): boolean => /^(Describe|Get|List|Head|Lookup|Search|BatchGet)/.test(operation);
