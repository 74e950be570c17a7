/**
 * Reading a local file someone named (`riposte intake <file>`, a playbook
 * library) with a byte limit, so no file can make Riposte read without end:
 * `/dev/zero` or `/dev/urandom` never end, a FIFO may never be written to,
 * and a huge file would be read whole before any size check.
 *
 * Only regular files are read (after following symbolic links). The path is
 * checked with `stat` first; the open uses O_NONBLOCK, so a path swapped
 * for a FIFO between the check and the open still cannot block the open,
 * and the opened file is checked again before a byte is read. Every refusal
 * is a typed error naming the file and what is wrong with it.
 *
 * Sits at the bottom of the module graph: the playbook loader and the CLI
 * both read through it.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

import { describeError, RiposteError } from './errors.js';

/** Each read asks for at most this much, so memory follows what the file holds, not the limit. */
const CHUNK_BYTES = 64 * 1024;

/** A local file Riposte was asked to read and will not (or cannot). */
export abstract class LocalFileError extends RiposteError {
  override readonly name: string = 'LocalFileError';
  /** The path as it was given. */
  readonly file: string;
  /** What is wrong, without the path: for reports that name the file themselves (`file:line:column: reason`). */
  readonly reason: string;

  protected constructor(file: string, reason: string, options: { bytes?: number; limit?: number; cause?: unknown } = {}) {
    super(`${file}: ${reason}`, { context: { file, bytes: options.bytes, limit: options.limit }, cause: options.cause, retryable: false });
    this.file = file;
    this.reason = reason;
  }
}

/** Nothing exists at the path (or a symbolic link on the way points nowhere). */
export class FileNotFoundError extends LocalFileError {
  override readonly name: string = 'FileNotFoundError';
  readonly code = 'FILE_NOT_FOUND';
  /** @param detail why, when more is known than "no such file" (a link to nothing). */
  constructor(file: string, cause?: unknown, detail?: string) {
    super(file, `no such file${detail === undefined ? '' : `: ${detail}`} (ENOENT)`, { cause });
  }
}

/** Symbolic links that lead back to themselves (ELOOP), or a directory link back to a directory above it. */
export class FileLinkLoopError extends LocalFileError {
  override readonly name: string = 'FileLinkLoopError';
  readonly code = 'FILE_LINK_LOOP';
  constructor(file: string, detail: string, cause?: unknown) {
    super(file, `symbolic link loop: ${detail}`, { cause });
  }
}

/** A FIFO, a device, a socket or a directory where a file's contents were wanted. */
export class NotARegularFileError extends LocalFileError {
  override readonly name: string = 'NotARegularFileError';
  readonly code = 'FILE_NOT_REGULAR';
  /** `a FIFO (named pipe)`, `a character device`… */
  readonly kind: string;
  constructor(file: string, kind: string) {
    super(file, `is ${kind}, not a regular file: only regular files are read`);
    this.kind = kind;
  }
}

/** The file holds more than the reader's limit. */
export class FileTooLargeError extends LocalFileError {
  override readonly name: string = 'FileTooLargeError';
  readonly code = 'FILE_TOO_LARGE';
  /** The file's size, when known (a file that grew while read is only known to be over the limit). */
  readonly bytes: number | undefined;
  readonly limit: number;
  constructor(file: string, bytes: number | undefined, limit: number, what: string) {
    super(file, `${bytes === undefined ? 'is more than' : `is ${bytes} bytes, over`} the ${limit}-byte limit for ${what}`, { ...(bytes === undefined ? {} : { bytes }), limit });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Any other reason the file cannot be read: permissions, an I/O error. */
export class FileUnreadableError extends LocalFileError {
  override readonly name: string = 'FileUnreadableError';
  readonly code = 'FILE_UNREADABLE';
  constructor(file: string, cause: unknown) {
    super(file, `cannot be read: ${describeError(cause)}`, { cause });
  }
}

/** `a FIFO (named pipe)`, `a directory`…: what a path is, in words. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

/** A failed `stat`/`open`/`read` as the typed error for it. */
export function localFileError(file: string, error: unknown): LocalFileError {
  if (error instanceof LocalFileError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileNotFoundError(file, error);
  if (code === 'ELOOP') return new FileLinkLoopError(file, 'too many levels of symbolic links (ELOOP)', error);
  if (code === 'EISDIR') return new NotARegularFileError(file, 'a directory');
  return new FileUnreadableError(file, error);
}

export interface ReadLimits {
  /** The most bytes the file may hold. */
  readonly maxBytes: number;
  /** What the file is for, in errors: `an event file`, `a playbook file`. */
  readonly what: string;
}

async function readAtMost(handle: FileHandle, file: string, limits: ReadLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // One byte past the limit is enough to know the file is too big (it may have grown since its stat).
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limits.maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limits.maxBytes) throw new FileTooLargeError(file, undefined, limits.maxBytes, limits.what);
  }
}

/**
 * The text (UTF-8) of the regular file at `file`, symbolic links followed,
 * read to at most `limits.maxBytes`.
 *
 * ```ts
 * const text = await readTextFile('event.json', { maxBytes: 1024 * 1024, what: 'an event file' });
 * ```
 *
 * @throws FileNotFoundError, FileLinkLoopError, NotARegularFileError (a
 *   FIFO, a device, a directory…), FileTooLargeError or FileUnreadableError;
 *   all of them LocalFileError, none retryable.
 */
export async function readTextFile(file: string, limits: ReadLimits): Promise<string> {
  let before: Stats;
  try {
    before = await stat(file);
  } catch (error) {
    throw localFileError(file, error);
  }
  if (!before.isFile()) throw new NotARegularFileError(file, fileKind(before));
  if (before.size > limits.maxBytes) throw new FileTooLargeError(file, before.size, limits.maxBytes, limits.what);

  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, for ever.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw localFileError(file, error);
  }
  try {
    // The path may have been replaced since its stat: what was opened is what counts.
    const opened = await handle.stat();
    if (!opened.isFile()) throw new NotARegularFileError(file, fileKind(opened));
    return (await readAtMost(handle, file, limits)).toString('utf8');
  } catch (error) {
    throw localFileError(file, error);
  } finally {
    await handle.close();
  }
}

/**
 * The text (UTF-8) of a stream (standard input), read to at most
 * `limits.maxBytes`: past that it stops reading and refuses.
 *
 * @param name names the stream in errors (`standard input`).
 * @throws FileTooLargeError
 */
export async function readTextStream(stream: AsyncIterable<unknown>, name: string, limits: ReadLimits): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early (the throw) ends the stream's iterator, which destroys the stream: nothing more is read.
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
    total += bytes.byteLength;
    if (total > limits.maxBytes) throw new FileTooLargeError(name, undefined, limits.maxBytes, limits.what);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
