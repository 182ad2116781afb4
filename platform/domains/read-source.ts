/**
 * Reads one file of the domains folder as text, or says why it cannot, so that
 * `noetl check` reports a file problem as a diagnostic naming the file and goes
 * on with the others (a thrown EISDIR or ELOOP used to stop it with E_INTERNAL).
 *
 * A domains folder is written by many teams and, on a server, its files become
 * the catalog the API serves. So a file is read only if it resolves inside the
 * domains folder (a link to /etc/passwd or a server's secrets is refused), is
 * a regular file (a FIFO would block, a device never end), holds at most
 * MAX_SOURCE_BYTES (parsing YAML with positions costs up to ~500 bytes of
 * memory per byte of source) and is UTF-8 text that is not empty.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../../common/errors.ts';

/** The largest source file read: 4 MiB parses in under ~2 GB of memory even in YAML's costliest form. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

export interface SourceProblem {
  code: Extract<ErrorCode, 'E_FILE_UNREADABLE' | 'E_FILE_INVALID'>;
  message: string;
  /** Where in the file, when the problem has a place (a byte that is not UTF-8); else 1:1. */
  line: number;
  col: number;
}

export type SourceText = { text: string; problem?: undefined } | { text?: undefined; problem: SourceProblem };

/** The canonical path of the domains folder, the boundary every file must resolve inside. */
export function domainsRoot(domainsDir: string): string | SourceProblem {
  try {
    return fs.realpathSync(domainsDir);
  } catch (e) {
    return accessProblem(e);
  }
}

/** Where a path leads, if it leads somewhere inside `root`. */
export function resolveInside(file: string, root: string): { real: string; problem?: undefined } | { real?: undefined; problem: SourceProblem } {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    return { problem: accessProblem(e) };
  }
  const relative = path.relative(root, real);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return { problem: { code: 'E_FILE_UNREADABLE', message: `leads through a symbolic link to ${real}, outside the domains folder; only files inside it are read`, line: 1, col: 1 } };
  }
  return { real };
}

export function readSourceText(file: string, root: string): SourceText {
  const resolved = resolveInside(file, root);
  if (resolved.problem) return { problem: resolved.problem };
  let fd: number;
  try {
    // Non-blocking, so that a FIFO swapped in after the check cannot hang the read.
    fd = fs.openSync(resolved.real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { problem: accessProblem(e) };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) return { problem: { code: 'E_FILE_UNREADABLE', message: 'is a directory, not a file', line: 1, col: 1 } };
    if (!stat.isFile()) return { problem: { code: 'E_FILE_UNREADABLE', message: 'is not a regular file (a device, FIFO or socket)', line: 1, col: 1 } };
    const bytes = readAtMost(fd, MAX_SOURCE_BYTES + 1);
    if (bytes.length > MAX_SOURCE_BYTES) return { problem: { code: 'E_FILE_INVALID', message: `is over the ${MAX_SOURCE_BYTES / 1024 / 1024} MiB limit of a source file (${stat.size} bytes); split it`, line: 1, col: 1 } };
    return decode(bytes);
  } catch (e) {
    return { problem: accessProblem(e) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Up to `limit` bytes, whatever the size said a moment ago (a file can grow between the stat and the read). */
function readAtMost(fd: number, limit: number): Buffer {
  let buffer = Buffer.alloc(Math.min(limit, fs.fstatSync(fd).size + 1));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length >= limit) return buffer;
      const grown = Buffer.alloc(Math.min(limit, buffer.length * 2));
      buffer.copy(grown);
      buffer = grown;
    }
    const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return buffer.subarray(0, length);
    length += read;
  }
}

/** UTF-8 text, kept as it was (a byte-order mark included, as before); empty or not UTF-8 is a problem with its place. */
function decode(bytes: Buffer): SourceText {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  const bad = firstInvalidByte(bytes, text);
  if (bad !== undefined) {
    const lineStart = bytes.lastIndexOf(0x0a, bad - 1) + 1;
    const line = countNewlines(bytes, lineStart) + 1;
    const col = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(lineStart, bad)).length + 1;
    const hex = bytes[bad]!.toString(16).toUpperCase().padStart(2, '0');
    return { problem: { code: 'E_FILE_INVALID', message: `is not UTF-8 text: byte 0x${hex} at line ${line}, column ${col} is not valid UTF-8; save the file as UTF-8`, line, col } };
  }
  if (text.trim() === '') return { problem: { code: 'E_FILE_INVALID', message: 'is empty', line: 1, col: 1 } };
  return { text };
}

/** The offset of the first byte that is not valid UTF-8: where the text, encoded again, first differs from the bytes. */
function firstInvalidByte(bytes: Buffer, text: string): number | undefined {
  if (isUtf8(bytes)) return undefined;
  const again = Buffer.from(text, 'utf8');
  let i = 0;
  while (i < bytes.length && i < again.length && bytes[i] === again[i]) i++;
  return i;
}

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < end; i = bytes.indexOf(0x0a, i + 1)) count++;
  return count;
}

/** What a failed open, stat, read or listing means, in words a team can act on. */
export function accessProblem(e: unknown, what: 'file' | 'folder' = 'file'): SourceProblem {
  const code = (e as NodeJS.ErrnoException).code;
  const message =
    code === 'ELOOP' ? 'is a symbolic link in a loop (it leads back to itself)'
    : code === 'ENOENT' ? 'is a symbolic link to nothing: the path it names does not exist'
    : code === 'EISDIR' ? 'is a directory, not a file'
    : code === 'ENOTDIR' ? (what === 'folder' ? 'should be a folder, but is a file' : 'is not a directory')
    : code === 'EACCES' || code === 'EPERM' ? `cannot be ${what === 'folder' ? 'listed' : 'read'}: permission denied`
    : `cannot be ${what === 'folder' ? 'listed' : 'read'}: ${code ?? (e as Error).message}`;
  return { code: 'E_FILE_UNREADABLE', message, line: 1, col: 1 };
}
