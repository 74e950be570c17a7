export { DynamoDbRunLedger, runLedgerTableProperties } from './dynamodb-ledger.js';
export type { DynamoDbRunLedgerOptions, RunLedgerTableProperties } from './dynamodb-ledger.js';
export { IllegalRunTransitionError, LedgerConflictError, LedgerStoreError, RunAlreadyExistsError, RunAlreadyFinishedError, RunNotFoundError } from './errors.js';
export { FileRunLedger } from './file-ledger.js';
export type { FileRunLedgerOptions } from './file-ledger.js';
export type { RunLedger, RunLedgerOptions } from './ledger.js';
export { MemoryRunLedger } from './memory-ledger.js';
export { idempotencyKey, isTerminal } from './rules.js';
export { canMove, hasEnded, RUN_STAGES, stagesBefore } from './run-state.js';
export type { RunStage, RunState, RunTransition } from './run-state.js';
export { LISTED_RUN_FIELDS, RUN_MODES, RUN_STATUSES, STEP_PHASES, STEP_STATUSES, TERMINAL_RUN_STATUSES } from './types.js';
export type {
  ChangeReservation,
  ClaimResult,
  EvidenceDigest,
  ListedRun,
  MatchedCondition,
  NewRun,
  RunMode,
  RunOutcome,
  RunQuery,
  RunRecord,
  RunStatus,
  StepChange,
  StepPhase,
  StepProgress,
  StepRecord,
  StepStatus,
  TerminalRunStatus,
} from './types.js';
