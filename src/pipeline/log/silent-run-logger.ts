import type { RunLogger } from './types.js';

const nothing = (): void => undefined;

/** Writes nothing; its children are itself. For callers that log only when asked to. */
export const silentRunLogger: RunLogger = Object.freeze({
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  child: (): RunLogger => silentRunLogger,
});
