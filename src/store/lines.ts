/** Synchronous line reader over a file of any size: constant memory apart from the longest line. */
import { closeSync, openSync, readSync } from 'node:fs';

/** One line of a file, without its newline ('\r\n' is trimmed too), and its 1-based number. */
export interface Line {
  text: string;
  line: number;
}

/** Yield the lines of `path` one by one (UTF-8). A final line without a newline is yielded too. */
export function* readLines(path: string, chunkBytes = 1 << 20): Generator<Line> {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let pending: Buffer[] = [];
    let lineNo = 0;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) break;
      pos += n;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0 || nl >= n) break;
        pending.push(chunk.subarray(start, nl));
        let text = Buffer.concat(pending).toString('utf8');
        if (text.endsWith('\r')) text = text.slice(0, -1);
        pending = [];
        yield { text, line: ++lineNo };
        start = nl + 1;
      }
      if (start < n) pending.push(Buffer.from(chunk.subarray(start, n)));
    }
    if (pending.length) {
      let text = Buffer.concat(pending).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      yield { text, line: ++lineNo };
    }
  } finally {
    closeSync(fd);
  }
}
