import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { FileLinkLoopError, FileNotFoundError, FileTooLargeError, NotARegularFileError, readTextFile, readTextStream } from '../src/files.js';

const LIMITS = { maxBytes: 1024, what: 'a test file' };

const directory = (): string => mkdtempSync(join(tmpdir(), 'riposte-files-'));

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, got a value');
}

describe('readTextFile', () => {
  it('reads a regular file, and one reached through a symbolic link', async () => {
    const where = directory();
    writeFileSync(join(where, 'event.json'), '{"é":1}');
    symlinkSync(join(where, 'event.json'), join(where, 'link.json'));

    expect(await readTextFile(join(where, 'event.json'), LIMITS)).toBe('{"é":1}');
    expect(await readTextFile(join(where, 'link.json'), LIMITS)).toBe('{"é":1}');
  });

  it('refuses /dev/zero as a character device, reading nothing of it', async () => {
    const error = await refusal(readTextFile('/dev/zero', LIMITS));

    expect(error).toBeInstanceOf(NotARegularFileError);
    expect(error).toMatchObject({
      code: 'FILE_NOT_REGULAR',
      file: '/dev/zero',
      message: '/dev/zero: is a character device, not a regular file: only regular files are read',
      context: { file: '/dev/zero' },
    });
  });

  it('refuses a FIFO no one writes to, without blocking on it', async () => {
    const fifo = join(directory(), 'event.json');
    execFileSync('mkfifo', [fifo], { timeout: 60_000 });

    const error = await refusal(readTextFile(fifo, LIMITS));

    expect(error).toBeInstanceOf(NotARegularFileError);
    expect((error as Error).message).toBe(`${fifo}: is a FIFO (named pipe), not a regular file: only regular files are read`);
  });

  it('refuses a directory', async () => {
    const where = directory();

    expect(await refusal(readTextFile(where, LIMITS))).toMatchObject({ code: 'FILE_NOT_REGULAR', reason: 'is a directory, not a regular file: only regular files are read' });
  });

  it('says "no such file" for a missing path, typed, with the path in its context', async () => {
    const missing = join(directory(), 'no-such-event.json');

    const error = await refusal(readTextFile(missing, LIMITS));

    expect(error).toBeInstanceOf(FileNotFoundError);
    expect(error).toMatchObject({ code: 'FILE_NOT_FOUND', retryable: false, message: `${missing}: no such file (ENOENT)`, context: { file: missing } });
  });

  it('refuses a file over the limit by its size, before reading it', async () => {
    const big = join(directory(), 'big.json');
    writeFileSync(big, 'x'.repeat(1025));

    const error = await refusal(readTextFile(big, LIMITS));

    expect(error).toBeInstanceOf(FileTooLargeError);
    expect(error).toMatchObject({ bytes: 1025, limit: 1024, reason: 'is 1025 bytes, over the 1024-byte limit for a test file', context: { file: big, bytes: 1025, limit: 1024 } });
  });

  it('reads a file of exactly the limit', async () => {
    const full = join(directory(), 'full.json');
    writeFileSync(full, 'x'.repeat(1024));

    expect(await readTextFile(full, LIMITS)).toHaveLength(1024);
  });

  it('refuses a symbolic link loop (a.yml -> b.yml -> a.yml)', async () => {
    const where = directory();
    symlinkSync(join(where, 'b.yml'), join(where, 'a.yml'));
    symlinkSync(join(where, 'a.yml'), join(where, 'b.yml'));

    const error = await refusal(readTextFile(join(where, 'a.yml'), LIMITS));

    expect(error).toBeInstanceOf(FileLinkLoopError);
    expect((error as Error).message).toBe(`${join(where, 'a.yml')}: symbolic link loop: too many levels of symbolic links (ELOOP)`);
  });
});

describe('readTextStream', () => {
  it('stops reading an endless stream (standard input from /dev/zero) one chunk past the limit', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 256;
        this.push(Buffer.alloc(256));
      },
    });

    const error = await refusal(readTextStream(endless, 'standard input', LIMITS));

    expect(error).toBeInstanceOf(FileTooLargeError);
    expect((error as Error).message).toBe('standard input: is more than the 1024-byte limit for a test file');
    // Readable buffers ahead up to its high-water mark (16 KB), never more: nothing reads on once refused.
    expect(produced).toBeLessThanOrEqual(1024 + 256 + 16 * 1024);
    expect(endless.destroyed).toBe(true);
  });

  it('reads a stream within the limit', async () => {
    expect(await readTextStream(Readable.from(['{"a":', '1}']), 'standard input', LIMITS)).toBe('{"a":1}');
  });
});
