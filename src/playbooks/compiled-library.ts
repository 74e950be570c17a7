import { readTextFile, type ReadLimits } from '../files.js';
import type { ActionRegistry } from '../actions/index.js';
import { PlaybookCompileError, type PlaybookProblem } from './errors.js';
import type { CompiledPlaybook } from './types.js';

/**
 * The playbook library as the deployed functions read it: compiled at
 * package time (`serverless package`, through deploy/stack.ts) and written as
 * JSON beside the code. A function's cold start then parses JSON instead of
 * parsing YAML, validating and compiling; and its bundle carries neither the
 * YAML parser nor the playbook schema (about 150 KB of the 1 MB budget).
 *
 * The file is build output, shipped inside the function's own package, so it
 * is as trusted as the code; reading it still checks its format and that
 * every step names an action this build registers, so a file from another
 * version fails the cold start loudly instead of failing a step later.
 */

/** What the file says it is: a new layout gets a new version, and an old reader refuses it. */
export const COMPILED_LIBRARY_FORMAT = 'riposte/compiled-playbooks@1';

/** The library's largest reasonable size: the default library compiles to about 30 KB. */
const COMPILED_LIBRARY_LIMITS: ReadLimits = { maxBytes: 16 * 1024 * 1024, what: 'a compiled playbook library' };

interface CompiledLibraryDocument {
  readonly format: typeof COMPILED_LIBRARY_FORMAT;
  readonly playbooks: readonly CompiledPlaybook[];
}

/** The library as the file holds it (stable: the same playbooks give the same text). */
export function compiledLibraryText(playbooks: readonly CompiledPlaybook[]): string {
  const document: CompiledLibraryDocument = { format: COMPILED_LIBRARY_FORMAT, playbooks };
  return `${JSON.stringify(document)}\n`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Whether a rule's condition tree has a condition with a JSONPath `path` (never compiled; the deployed functions do not evaluate one). */
function hasPath(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasPath);
  if (!isRecord(node)) return false;
  if ('path' in node) return true;
  return [node.all, node.any, node.not].some((child) => child !== undefined && hasPath(child));
}

/** Why an entry of `playbooks` is not a compiled playbook this build can run, or undefined. */
function entryProblem(entry: unknown, registry: ActionRegistry): string | undefined {
  if (!isRecord(entry) || !isRecord(entry.playbook) || !isRecord(entry.rule) || !isRecord(entry.source)) return 'is not a compiled playbook';
  const { playbook } = entry;
  if (typeof playbook.id !== 'string' || !Array.isArray(playbook.steps)) return 'is not a compiled playbook';
  if (hasPath(entry.rule.conditions)) return `playbook ${playbook.id} has a condition with a JSONPath path, which Riposte never compiles`;
  for (const step of playbook.steps as unknown[]) {
    const action = isRecord(step) ? step.action : undefined;
    if (typeof action !== 'string' || !registry.has(action)) return `playbook ${playbook.id} runs ${String(action)}, which this build does not register`;
  }
  return undefined;
}

/**
 * The playbooks of a compiled library's text.
 *
 * @throws PlaybookCompileError naming the file (and the playbook) at fault.
 */
export function parseCompiledLibrary(text: string, file: string, registry: ActionRegistry): CompiledPlaybook[] {
  const refuse = (message: string, playbook?: string): PlaybookCompileError => {
    const problem: PlaybookProblem = { file, line: 1, column: 1, path: '', message, ...(playbook === undefined ? {} : { playbook }) };
    return new PlaybookCompileError([problem]);
  };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not JSON (${(error as Error).message}): rebuild it with serverless package`);
  }
  if (!isRecord(document) || document.format !== COMPILED_LIBRARY_FORMAT) {
    throw refuse(`is not a ${COMPILED_LIBRARY_FORMAT} library: rebuild it with serverless package`);
  }
  if (!Array.isArray(document.playbooks)) throw refuse('has no playbooks list');
  const playbooks = document.playbooks as unknown[];
  playbooks.forEach((entry, index) => {
    const problem = entryProblem(entry, registry);
    if (problem !== undefined) throw refuse(`playbooks[${index}] ${problem}`, isRecord(entry) && isRecord(entry.playbook) && typeof entry.playbook.id === 'string' ? entry.playbook.id : undefined);
  });
  return playbooks as CompiledPlaybook[];
}

/**
 * Reads a compiled library file.
 *
 * @throws PlaybookCompileError (a file that is not a library), LocalFileError (missing, unreadable).
 */
export async function readCompiledLibrary(file: string, registry: ActionRegistry): Promise<CompiledPlaybook[]> {
  return parseCompiledLibrary(await readTextFile(file, COMPILED_LIBRARY_LIMITS), file, registry);
}
