/**
 * Atomic file output: everything is written to a temporary file next to the target and renamed into place only
 * when complete, so an interrupted run never leaves a half-written result.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Temporary path used while `target` is being written. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
}

/** Write `data` to `target` atomically (temp file + rename). */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Write JSON atomically, pretty-printed. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A file written in pieces and published atomically: `write()` appends, `commit()` fsyncs and renames into place,
 * `abort()` removes the temporary file.
 */
export class AtomicFile {
  readonly target: string;
  readonly tempPath: string;
  private fd: number | null;
  bytesWritten = 0;

  constructor(target: string, tempPath = tempPathFor(target)) {
    mkdirSync(dirname(target), { recursive: true });
    this.target = target;
    this.tempPath = tempPath;
    this.fd = openSync(tempPath, 'w');
  }

  write(chunk: Uint8Array | string): void {
    if (this.fd === null) throw new Error(`AtomicFile ${this.target} is closed`);
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.bytesWritten += buf.length;
  }

  commit(): void {
    if (this.fd === null) throw new Error(`AtomicFile ${this.target} is closed`);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tempPath, this.target);
  }

  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    rmSync(this.tempPath, { force: true });
  }
}
