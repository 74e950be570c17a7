import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadPlaybooks, PlaybookCompileError, readPlaybookFiles } from '../../src/playbooks/index.js';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-load-'));

/** A library with one good playbook and, beside it, files that cannot be read. */
function libraryWithBadFiles(): string {
  const library = scratch();
  copyFileSync(resolve('playbooks', 'cis-password-policy.yml'), join(library, 'cis-password-policy.yml'));
  execFileSync('mkfifo', [join(library, 'pipe.yml')], { timeout: 60_000 });
  writeFileSync(join(library, 'huge.yml'), `# ${'x'.repeat(1024 * 1024)}\n`);
  symlinkSync(join(library, 'gone.yml'), join(library, 'dangling.yml'));
  symlinkSync(join(library, 'gone'), join(library, 'not-a-playbook'));
  return library;
}

describe('loadPlaybooks', () => {
  it('reports a FIFO, a file over 1 MiB and a dangling link named like playbooks as problems at file:1:1, and still compiles the rest', async () => {
    const library = libraryWithBadFiles();

    const { playbooks, problems } = await loadPlaybooks(library);

    expect(playbooks.map((compiled) => compiled.playbook.id)).toEqual(['cis-password-policy']);
    expect(problems).toEqual([
      { file: join(library, 'dangling.yml'), line: 1, column: 1, path: '', message: 'no such file: a symbolic link to nothing (ENOENT)' },
      { file: join(library, 'huge.yml'), line: 1, column: 1, path: '', message: 'is 1048579 bytes, over the 1048576-byte limit for a playbook file' },
      { file: join(library, 'pipe.yml'), line: 1, column: 1, path: '', message: 'is a FIFO (named pipe), not a regular file: only regular files are read' },
    ]);
  });
});

describe('readPlaybookFiles', () => {
  it('is all or nothing: a library with unreadable files is a PlaybookCompileError naming each', async () => {
    const library = libraryWithBadFiles();

    const error: unknown = await readPlaybookFiles(library).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PlaybookCompileError);
    expect((error as PlaybookCompileError).problems.map((problem) => problem.file)).toEqual(['dangling.yml', 'huge.yml', 'pipe.yml'].map((name) => join(library, name)));
  });
});
