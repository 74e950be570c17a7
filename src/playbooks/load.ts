import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { builtInActions, type ActionRegistry } from '../actions/index.js';
import { FileLinkLoopError, FileNotFoundError, LocalFileError, localFileError, readTextFile, type ReadLimits } from '../files.js';
import { compilePlaybookFiles, type CompileResult, type PlaybookFile } from './compile.js';
import { PlaybookCompileError, type PlaybookProblem } from './errors.js';

const YAML_EXTENSIONS = new Set(['.yml', '.yaml']);

/**
 * The most a playbook file may hold: 1 MiB. Playbooks are written by hand
 * (the library's largest is under 3 KB); the limit only stops a device, a
 * runaway file or a generated monster from being read whole.
 */
export const PLAYBOOK_FILE_LIMITS: ReadLimits = { maxBytes: 1024 * 1024, what: 'a playbook file' };

/** Playbook files read from a path, and the ones that could not be read, each as a problem at its file. */
export interface PlaybookFiles {
  readonly files: readonly PlaybookFile[];
  readonly problems: readonly PlaybookProblem[];
}

/** A file that cannot be read is a problem of that file, as a YAML error would be (placed at its start). */
const fileProblem = (error: LocalFileError): PlaybookProblem => ({ file: error.file, line: 1, column: 1, path: '', message: error.reason });

/** A directory's identity, whatever path reached it. */
const identity = (stats: Stats): string => `${stats.dev}:${stats.ino}`;

interface PendingDirectory {
  readonly path: string;
  /** The directories above it on the way here, outermost first: a link back to one of them is a cycle. */
  readonly ancestors: ReadonlyArray<{ readonly key: string; readonly path: string }>;
}

/**
 * The YAML files under `root`, symbolic links followed (to files and to
 * directories), each directory read once. A link back to a directory above
 * it is a cycle and a link that resolves to nothing because of a loop is
 * refused; both become problems, and the walk goes on. A YAML-named entry
 * that is not a readable regular file is kept, so its read reports why.
 */
async function findYamlFiles(root: string, rootStats: Stats): Promise<{ paths: string[]; problems: PlaybookProblem[] }> {
  const paths: string[] = [];
  const problems: PlaybookProblem[] = [];
  const seen = new Set<string>([identity(rootStats)]);
  const pending: PendingDirectory[] = [{ path: root, ancestors: [{ key: identity(rootStats), path: root }] }];
  while (pending.length > 0) {
    const directory = pending.pop() as PendingDirectory;
    let entries;
    try {
      entries = await readdir(directory.path, { withFileTypes: true });
    } catch (error) {
      problems.push(fileProblem(localFileError(directory.path, error)));
      continue;
    }
    const below: PendingDirectory[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(directory.path, entry.name);
      const yaml = YAML_EXTENSIONS.has(extname(entry.name));
      if (entry.isFile()) {
        if (yaml) paths.push(path);
        continue;
      }
      if (!entry.isDirectory() && !entry.isSymbolicLink()) {
        // A FIFO, a socket or a device named like a playbook: its read says what it is.
        if (yaml) paths.push(path);
        continue;
      }
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        const found = localFileError(path, error);
        const refused = found instanceof FileNotFoundError && entry.isSymbolicLink() ? new FileNotFoundError(path, error, 'a symbolic link to nothing') : found;
        // A loop is refused whatever the link is named; a dangling link matters only where a playbook was meant.
        if (yaml || refused instanceof FileLinkLoopError) problems.push(fileProblem(refused));
        continue;
      }
      if (!stats.isDirectory()) {
        if (yaml) paths.push(path);
        continue;
      }
      const key = identity(stats);
      const ancestor = directory.ancestors.find((candidate) => candidate.key === key);
      if (ancestor !== undefined) {
        problems.push(fileProblem(new FileLinkLoopError(path, `leads back to ${ancestor.path}, a directory above it`)));
        continue;
      }
      // Reached before by another link: its files are read once.
      if (seen.has(key)) continue;
      seen.add(key);
      below.push({ path, ancestors: [...directory.ancestors, { key, path }] });
    }
    // Reversed onto the stack, so directories are walked in name order.
    pending.push(...below.reverse());
  }
  return { paths: paths.sort(), problems };
}

/**
 * Reads every `.yml`/`.yaml` file under `path` (or the one file it names),
 * in a stable order, each to at most {@link PLAYBOOK_FILE_LIMITS}. A file
 * under a directory that cannot be read (a FIFO, a device, too large, a
 * link loop or a link to nothing) is a problem of its own and the others
 * are still read.
 *
 * @throws LocalFileError when `path` itself does not exist, or names a file
 *   that cannot be read.
 */
export async function readPlaybookLibrary(path: string): Promise<PlaybookFiles> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw localFileError(path, error);
  }
  if (!stats.isDirectory()) return { files: [{ path, text: await readTextFile(path, PLAYBOOK_FILE_LIMITS) }], problems: [] };
  const { paths, problems } = await findYamlFiles(path, stats);
  const files: PlaybookFile[] = [];
  // One at a time: a library is a handful of small files, and no count of them may exhaust file descriptors.
  for (const file of paths) {
    try {
      files.push({ path: file, text: await readTextFile(file, PLAYBOOK_FILE_LIMITS) });
    } catch (error) {
      if (!(error instanceof LocalFileError)) throw error;
      problems.push(fileProblem(error));
    }
  }
  return { files, problems: problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)) };
}

/**
 * Like {@link readPlaybookLibrary}, all or nothing.
 *
 * @throws PlaybookCompileError naming every file that could not be read.
 */
export async function readPlaybookFiles(path: string): Promise<PlaybookFile[]> {
  const { files, problems } = await readPlaybookLibrary(path);
  if (problems.length > 0) throw new PlaybookCompileError(problems);
  return [...files];
}

/** Reads and compiles a playbook directory, reporting every problem in it (files that cannot be read first). */
export async function loadPlaybooks(path: string, registry: ActionRegistry = builtInActions()): Promise<CompileResult> {
  const { files, problems } = await readPlaybookLibrary(path);
  const compiled = compilePlaybookFiles(files, registry);
  return { ...compiled, problems: [...problems, ...compiled.problems] };
}
