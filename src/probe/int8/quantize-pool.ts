/**
 * The quantizing pass on two threads: a worker thread runs the quantizing kernel (column-quantizer.ts) on one block
 * of rows while the caller's thread reads the next block and places the previous one's bytes in its own output.
 *
 * Why: the pass is one streamed sweep of the source on one thread (at paper scale, 40,000 × 9,984 float16: reads
 * ~0.15 s, the kernel ~0.5 s, and ~0.25 s of page faults on the fresh output), while the machine's other core waits.
 * The output cannot simply be shared: ONNX Runtime rejects tensors on shared memory, and the passes run on it. So
 * the worker quantizes each block into a shared memory of its own (compact, [cols × rows]) and the caller copies it
 * into place (a memcpy and one `memory.copy` per column), which also takes the page faults off the worker.
 *
 * The bytes and the sums are the same as on one thread: the same kernel, and the block sums are added in the same
 * order. Synchronisation is by `Atomics` on a small shared control array; the caller blocks in `Atomics.wait`
 * (allowed on Node's main thread), so the pass stays synchronous.
 */
import { Worker } from 'node:worker_threads';
import { ColumnQuantizer } from './column-quantizer.js';

/** Slots of the control array. */
export const CTRL = {
  /** Blocks requested so far (−1: stop). */
  REQ: 0,
  /** Blocks quantized so far. */
  DONE: 1,
  /** 1 when the worker failed (its message, UTF-8, from byte MSG with its length at MSG_LEN). */
  ERR: 2,
  MSG_LEN: 3,
  /** Rows of the block in each slot (ROWS + slot). */
  ROWS: 8,
  /** Byte offset of the error message. */
  MSG: 64,
  /** Bytes of the control buffer. */
  BYTES: 1024,
} as const;

/** Blocks in flight: one being quantized while the next is read. */
const SLOTS = 2;

/** What the worker receives for one pass. */
export interface PassMessage {
  memories: ColumnQuantizer['memory'][];
  ctrl: SharedArrayBuffer;
  cols: number;
  maxRows: number;
  dtype: 'float16' | 'float32';
}

let worker: Worker | null | undefined;

/**
 * The worker's script, and how long the caller waits for the worker's first block (its start included) before it
 * gives up on it and does the pass itself (a worker whose script cannot load never answers: its error event would
 * only reach the caller's event loop, which the pass blocks). Settable for tests (`resetQuantizeWorker` after).
 */
export const workerSettings = {
  script: new URL('./quantize-worker.js', import.meta.url) as URL | string,
  eval: false,
  firstWaitMs: 10_000,
};

/** Forget a worker given up on (tests that changed `workerSettings`). */
export function resetQuantizeWorker(): void {
  if (worker === null) worker = undefined;
}

/**
 * The quantizing worker, started on first use (its start, ~50 ms, overlaps whatever the caller does next) and ended
 * by the pass that uses it; it does not keep the process alive. Null where workers cannot be started.
 */
export function quantizeWorker(): Worker | null {
  if (worker === undefined) {
    try {
      const w = new Worker(workerSettings.script, { eval: workerSettings.eval });
      w.unref();
      w.on('error', () => {
        if (worker === w) worker = null;
      });
      w.on('exit', () => {
        if (worker === w) worker = undefined;
      });
      worker = w;
    } catch {
      worker = null;
    }
  }
  return worker;
}

/** One block of the pass: its rows, where they go in the caller's output, and how to read them. */
export interface QuantizeJob {
  rows: number;
  /** Offset and stride of the block's columns in `qz.out` (as for `ColumnQuantizer.quantize`). */
  at: number;
  stride: number;
  /** Read the block's source rows into `into` (row-major, the source dtype). */
  read(into: Uint16Array | Float32Array): void;
}

/**
 * A region [start, end) of the output that jobs will write, the first of them being job `first`: while the caller
 * waits for the worker, it touches the region's pages (a write of 0 per page, before job `first` is placed), so that
 * the page faults of the fresh output (~0.25 s at paper scale) fall in time it would spend waiting.
 */
export interface Region {
  start: number;
  end: number;
  first: number;
}

/** Bytes per page, and pages touched between two looks at the worker. */
const PAGE = 4096;
const TOUCH_PAGES = 256;

/** How long the caller waits for one block before it gives up on the worker. */
const WAIT_MS = 120_000;

/** The worker did not answer in time for its first block: the caller does the pass (nothing was written yet). */
class NoAnswer extends Error {}

/**
 * Run `jobs` (in order) as `qz.quantize` would, the kernel on the worker thread (with `qz`'s range): the same bytes
 * in `qz.out`, and the same column sums added to `sum` and `sq`. Returns false, having written nothing, when no
 * worker can be had or it does not answer (the caller then runs the pass itself).
 */
export function quantizeOnWorker(
  qz: ColumnQuantizer,
  jobs: QuantizeJob[],
  sum: Float64Array,
  sq: Float64Array,
  regions: Region[] = [],
): boolean {
  const w = quantizeWorker();
  if (!w) return false;
  let silent = false;
  const { cols, maxRows, dtype } = qz;
  const slots = Array.from({ length: Math.min(SLOTS, jobs.length) }, () => new ColumnQuantizer(cols, maxRows, dtype, cols * maxRows, { shared: true }));
  for (const s of slots) s.copyRange(qz);
  const buf = new SharedArrayBuffer(CTRL.BYTES);
  const ctrl = new Int32Array(buf);
  const message: PassMessage = { memories: slots.map((s) => s.memory), ctrl: buf, cols, maxRows, dtype };
  w.postMessage(message);
  const failed = (): Error => {
    const len = Atomics.load(ctrl, CTRL.MSG_LEN);
    const text = new TextDecoder().decode(new Uint8Array(buf, CTRL.MSG, len).slice());
    return new Error(`the quantizing worker failed: ${text}`);
  };
  // the regions' pages not touched yet: region r from byte `at`; jobs placed so far
  let r = 0;
  let touchAt = regions.length ? regions[0].start : 0;
  let placed = 0;
  const out = qz.out;
  const touch = (): boolean => {
    while (r < regions.length && (regions[r].first < placed || touchAt >= regions[r].end)) if (++r < regions.length) touchAt = regions[r].start;
    if (r >= regions.length) return false;
    const end = Math.min(regions[r].end, touchAt + TOUCH_PAGES * PAGE);
    for (; touchAt < end; touchAt += PAGE) out[touchAt] = 0;
    return true;
  };
  const waitDone = (count: number): void => {
    for (;;) {
      if (Atomics.load(ctrl, CTRL.ERR)) throw failed();
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= count) return;
      if (touch()) continue;
      const ms = done === 0 ? workerSettings.firstWaitMs : WAIT_MS;
      if (Atomics.wait(ctrl, CTRL.DONE, done, ms) === 'timed-out' && Atomics.load(ctrl, CTRL.DONE) === done) {
        if (done === 0) throw new NoAnswer();
        throw new Error(`the quantizing worker did not finish a block in ${WAIT_MS / 1000} s`);
      }
    }
  };
  const finish = (i: number): void => {
    const { rows, at, stride } = jobs[i];
    const s = slots[i % slots.length];
    qz.place(s.out, rows, at, stride);
    s.addSums(sum, sq);
    placed = i + 1;
  };
  try {
    for (let i = 0; i < jobs.length; i++) {
      if (i >= slots.length) {
        waitDone(i - slots.length + 1);
        finish(i - slots.length);
      }
      const { rows } = jobs[i];
      jobs[i].read(slots[i % slots.length].block(rows));
      ctrl[CTRL.ROWS + (i % slots.length)] = rows;
      Atomics.store(ctrl, CTRL.REQ, i + 1);
      Atomics.notify(ctrl, CTRL.REQ);
    }
    for (let i = Math.max(0, jobs.length - slots.length); i < jobs.length; i++) {
      waitDone(i + 1);
      finish(i);
    }
  } catch (e) {
    if (!(e instanceof NoAnswer)) throw e;
    silent = true;
    return false;
  } finally {
    Atomics.store(ctrl, CTRL.REQ, -1);
    Atomics.notify(ctrl, CTRL.REQ);
    // one worker per pass: an idle worker would hold on to its view of the slots (~30 MB at paper scale) until its
    // own garbage collection, which an idle isolate does not run; its start (~50 ms) overlaps the range pass. A
    // worker that did not answer is not tried again in this process (null: every later pass runs on its caller)
    if (worker === w) worker = silent ? null : undefined;
    void w.terminate();
  }
  return true;
}
