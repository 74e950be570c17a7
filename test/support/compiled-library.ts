import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compiledLibraryText, loadPlaybooks, PlaybookCompileError, type CompiledPlaybook } from '../../src/playbooks/index.js';

const root = join(import.meta.dirname, '..', '..');

let library: Promise<readonly CompiledPlaybook[]> | undefined;

/** The repository's playbooks/, compiled (once per test file). */
export function compiledDefaultLibrary(): Promise<readonly CompiledPlaybook[]> {
  library ??= loadPlaybooks(join(root, 'playbooks')).then(({ playbooks, problems }) => {
    if (problems.length > 0) throw new PlaybookCompileError(problems);
    return playbooks;
  });
  return library;
}

let directory: string | undefined;

/**
 * The library file a deployed function reads (`serverless package` writes
 * it to PACKAGED_PLAYBOOK_LIBRARY), compiled from the repository's
 * playbooks/ or from the playbooks given: its path, in a directory removed
 * when the test process exits.
 */
export async function compiledLibraryFile(playbooks?: readonly CompiledPlaybook[]): Promise<string> {
  if (directory === undefined) {
    const created = mkdtempSync(join(tmpdir(), 'riposte-library-'));
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    directory = created;
  }
  const file = join(directory, `playbooks-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, compiledLibraryText(playbooks ?? (await compiledDefaultLibrary())));
  return file;
}
