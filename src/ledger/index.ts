export { DynamoDbRunLedger, runLedgerTableProperties } from './dynamodb-ledger.js';
export type { DynamoDbRunLedgerOptions, RunLedgerTableProperties } from './dynamodb-ledger.js';
export { LedgerConflictError, LedgerStoreError, RunAlreadyExistsError, RunAlreadyFinishedError, RunNotFoundError } from './errors.js';
export { FileRunLedger } from './file-ledger.js';
export type { FileRunLedgerOptions } from './file-ledger.js';
export { idempotencyKey, isTerminal } from './ledger.js';
export type { RunLedger, RunLedgerOptions } from './ledger.js';
export { RUN_MODES, RUN_STATUSES, STEP_PHASES, STEP_STATUSES, TERMINAL_RUN_STATUSES } from './types.js';
export type {
  ChangeReservation,
  ClaimResult,
  EvidenceDigest,
  NewRun,
  RunMode,
  RunOutcome,
  RunRecord,
  RunStatus,
  SerializedError,
  StepChange,
  StepPhase,
  StepProgress,
  StepRecord,
  StepStatus,
  TerminalRunStatus,
} from './types.js';
