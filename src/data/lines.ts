/**
 * Streaming line reader shared by the corpus readers: reads a file in fixed-size chunks and yields its lines with
 * 1-based line numbers, without ever holding the whole file as one string. Handles `\n` and `\r\n` line ends and a
 * leading UTF-8 byte-order mark. Bytes that are not valid UTF-8 are an InputError naming the file and the line
 * (never silently replaced by U+FFFD).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../util/errors.js';

/** Chunk size used by {@link iterateLines}. */
export const LINE_CHUNK_BYTES = 1 << 20;

/** Throw a clear InputError if `path` does not exist or is not a readable regular file. */
export function checkReadableFile(path: string, what = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${what} not found`, { location: { file: path }, expected: 'an existing, readable file' });
  }
  if (!st.isFile()) throw new InputError(`${what} is not a regular file`, { location: { file: path }, expected: 'a file, not a directory' });
}

/**
 * Read a file in chunks and call `onLine(line, lineNumber)` for each line (without its terminator, number 1-based);
 * after each chunk, `onChunk()` is yielded to by the generator, so callers can hand out what they built so far.
 * This is the fast path the readers use: no per-line generator step.
 */
export function* iterateLineChunks(
  path: string,
  onLine: (line: string, lineNo: number) => void,
  chunkBytes = LINE_CHUNK_BYTES,
): Generator<void> {
  checkReadableFile(path);
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let filled = 0; // bytes of an unfinished line carried over from the previous chunk
    let lineNo = 0;
    let first = true;
    for (;;) {
      if (filled === buf.length) {
        // one line longer than the buffer: grow it
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      const total = filled + n;
      const eof = n <= 0;
      // decode only up to the last complete line, so no UTF-8 sequence is ever split
      const cut = eof ? total : buf.lastIndexOf(10, total - 1) + 1;
      if (cut > 0) {
        if (!isUtf8(buf.subarray(0, cut))) throw invalidUtf8(path, buf.subarray(0, cut), lineNo);
        let text = buf.toString('utf8', 0, cut);
        if (first) {
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          first = false;
        }
        let start = 0;
        for (;;) {
          const nl = text.indexOf('\n', start);
          if (nl < 0) break;
          let end = nl;
          if (end > start && text.charCodeAt(end - 1) === 13) end--;
          onLine(text.slice(start, end), ++lineNo);
          start = nl + 1;
        }
        if (start < text.length) {
          // only at EOF: a last line without a terminator
          const rest = text.slice(start);
          onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++lineNo);
        }
        buf.copy(buf, 0, cut, total);
        filled = total - cut;
      } else {
        filled = total;
      }
      yield;
      if (eof) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** The InputError for a chunk that is not valid UTF-8: finds the first bad line (chunk starts at line `linesBefore` + 1). */
function invalidUtf8(path: string, chunk: Uint8Array, linesBefore: number): InputError {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  let line = linesBefore;
  while (start < chunk.length) {
    let nl = chunk.indexOf(10, start);
    if (nl < 0) nl = chunk.length;
    line++;
    try {
      dec.decode(chunk.subarray(start, nl));
    } catch {
      // step over valid sequences (1 to 4 bytes each) up to the first byte that does not start one
      let col = 0;
      for (;;) {
        let len = 1;
        while (len <= 4 && !isUtf8(chunk.subarray(start + col, start + col + len))) len++;
        if (len > 4 || start + col + len > nl) break;
        col += len;
      }
      // the first byte that does not start a valid sequence, as a 1-based byte column
      return new InputError(`bytes that are not valid UTF-8 (byte 0x${chunk[start + col].toString(16).padStart(2, '0')} at byte column ${col + 1})`, {
        location: { file: path, line },
        expected: 'a UTF-8 text file',
      });
    }
    start = nl + 1;
  }
  return new InputError('bytes that are not valid UTF-8', { location: { file: path, line }, expected: 'a UTF-8 text file' });
}

/** Yield `[line, lineNumber]` pairs of a file (line without its terminator, number 1-based). */
export function* iterateLines(path: string, chunkBytes = LINE_CHUNK_BYTES): Generator<[string, number]> {
  let ready: [string, number][] = [];
  for (const _ of iterateLineChunks(path, (l, n) => ready.push([l, n]), chunkBytes)) {
    const batch = ready;
    ready = [];
    yield* batch;
  }
}

/** Split an in-memory text into lines the same way {@link iterateLines} does. */
export function* splitLines(text: string): Generator<[string, number]> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let start = 0;
  let lineNo = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    let end = nl;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    yield [text.slice(start, end), ++lineNo];
    start = nl + 1;
  }
  if (start < text.length) {
    const rest = text.slice(start);
    yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++lineNo];
  }
}
