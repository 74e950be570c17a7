import { RiposteError } from '../errors.js';
import type { Position } from './source.js';

/** One problem in a playbook file, placed at file:line:column. */
export interface PlaybookProblem extends Position {
  readonly file: string;
  /** Dotted path in the document (`steps[2].ec2.isolate.allowAllFirst`). */
  readonly path: string;
  readonly message: string;
  readonly suggestion?: string;
  /** The playbook the problem belongs to, when its id is known. */
  readonly playbook?: string;
}

export function formatProblem(problem: PlaybookProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const what = problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
  return `${where}: ${what}${problem.suggestion === undefined ? '' : ` (did you mean "${problem.suggestion}"?)`}`;
}

/** Playbooks that do not compile; carries every problem found in one pass. */
export class PlaybookCompileError extends RiposteError {
  override readonly name: string = 'PlaybookCompileError';
  readonly code = 'PLAYBOOK_INVALID';
  readonly problems: readonly PlaybookProblem[];
  constructor(problems: readonly PlaybookProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in playbooks:\n${problems.map(formatProblem).join('\n')}`, {
      context: { file: problems[0]?.file, playbook: problems[0]?.playbook },
    });
    this.problems = problems;
  }
}
