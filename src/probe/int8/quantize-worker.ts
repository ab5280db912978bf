/**
 * The worker side of the two-thread quantizing pass (quantize-pool.ts): for each pass, the kernel on the caller's
 * shared slot memories, block after block as the control array requests them, until it says stop.
 */
import { parentPort } from 'node:worker_threads';
import { ColumnQuantizer } from './column-quantizer.js';
import { CTRL, type PassMessage } from './quantize-pool.js';

parentPort?.on('message', (m: PassMessage) => {
  const ctrl = new Int32Array(m.ctrl);
  const fail = (e: unknown): void => {
    const text = new TextEncoder().encode(e instanceof Error ? e.message : String(e)).subarray(0, CTRL.BYTES - CTRL.MSG);
    new Uint8Array(m.ctrl, CTRL.MSG, text.length).set(text);
    Atomics.store(ctrl, CTRL.MSG_LEN, text.length);
    Atomics.store(ctrl, CTRL.ERR, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  };
  let slots: ColumnQuantizer[];
  try {
    slots = m.memories.map((memory) => new ColumnQuantizer(m.cols, m.maxRows, m.dtype, m.cols * m.maxRows, { memory }));
  } catch (e) {
    fail(e);
    return;
  }
  for (let next = 0; ; ) {
    const req = Atomics.load(ctrl, CTRL.REQ);
    if (req < 0) return;
    if (req <= next) {
      Atomics.wait(ctrl, CTRL.REQ, req);
      continue;
    }
    const rows = ctrl[CTRL.ROWS + (next % slots.length)];
    try {
      slots[next % slots.length].quantizeBlock(rows, 0, rows);
    } catch (e) {
      fail(e);
      return;
    }
    next++;
    Atomics.store(ctrl, CTRL.DONE, next);
    Atomics.notify(ctrl, CTRL.DONE);
  }
});
