import { RiposteError } from '../errors.js';

export class UnknownActionError extends RiposteError {
  readonly code = 'ACTION_UNKNOWN';
  readonly suggestion: string | undefined;
  constructor(name: string, known: readonly string[], suggestion: string | undefined) {
    super(
      `unknown action "${name}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; known actions: ${known.join(', ')}`,
      { context: { step: name } },
    );
    this.suggestion = suggestion;
  }
}

export class DuplicateActionError extends RiposteError {
  readonly code = 'ACTION_DUPLICATE';
  constructor(name: string) {
    super(`action "${name}" is registered twice`, { context: { step: name } });
  }
}
