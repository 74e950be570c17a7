import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { builtInActions, type ActionRegistry } from '../actions/index.js';
import { compilePlaybookFiles, type CompileResult, type PlaybookFile } from './compile.js';

const YAML_EXTENSIONS = new Set(['.yml', '.yaml']);

/** Reads every `.yml`/`.yaml` file under `path` (or the one file it names), in a stable order. */
export async function readPlaybookFiles(path: string): Promise<PlaybookFile[]> {
  if (!(await stat(path)).isDirectory()) return [{ path, text: await readFile(path, 'utf8') }];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && YAML_EXTENSIONS.has(extname(entry.name)))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  return Promise.all(files.map(async (file) => ({ path: file, text: await readFile(file, 'utf8') })));
}

/** Reads and compiles a playbook directory, reporting every problem in it. */
export async function loadPlaybooks(path: string, registry: ActionRegistry = builtInActions()): Promise<CompileResult> {
  return compilePlaybookFiles(await readPlaybookFiles(path), registry);
}
