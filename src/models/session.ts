/**
 * An ONNX Runtime session for a built graph whose weights stay in the checkpoint's files. ONNX Runtime reads
 * external data relative to the graph file and maps it from disk, so the graph (nodes only, a few hundred KB) is
 * written as a hidden temporary file beside the weights, or, when that folder is read-only, into a temporary folder
 * holding hard links to the weight files; the temporary files are removed as soon as the session exists. Where no
 * hard link can be made (another file system), the weight files are read into memory instead. Nothing of the
 * checkpoint is converted or copied on disk.
 */
import { linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createModelSession, type ModelSession } from '../runtime/ort.js';
import { InputError } from '../util/errors.js';
import type { EncodedGraph } from './build.js';

let counter = 0;

/** Create the session of an encoded graph (see the module comment). */
export async function createGraphSession(g: EncodedGraph, opts: { intraOpThreads?: number } = {}): Promise<ModelSession> {
  if (!g.weightFiles.length) return createModelSession(g.model, { intraOpThreads: opts.intraOpThreads, externalData: g.externalData });
  const dirs = new Set(g.weightFiles.map((f) => dirname(f)));
  if (dirs.size !== 1) throw new InputError(`the checkpoint's weight files lie in several folders (${[...dirs].join(', ')})`, { expected: 'all shards in the folder of model.safetensors.index.json' });
  const dir = [...dirs][0];
  const name = `.neuroprobe-graph-${process.pid}-${counter++}.onnx`;
  const beside = join(dir, name);
  try {
    writeFileSync(beside, g.model);
  } catch {
    // read-only folder: hard links in a temporary folder (same inode, no copy)
    const tmp = mkdtempSync(join(tmpdir(), 'neuroprobe-graph-'));
    try {
      let linked = true;
      for (const f of g.weightFiles) {
        try {
          linkSync(f, join(tmp, basename(f)));
        } catch {
          linked = false;
          break;
        }
      }
      if (!linked) {
        // another file system: hand ONNX Runtime the files' bytes in memory
        const data = g.weightFiles.map((f) => ({ path: basename(f), data: new Uint8Array(readFileSync(f)) }));
        return await createModelSession(g.model, { intraOpThreads: opts.intraOpThreads, externalData: [...g.externalData, ...data] });
      }
      writeFileSync(join(tmp, name), g.model);
      return await createModelSession(join(tmp, name), { intraOpThreads: opts.intraOpThreads, externalData: g.externalData });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  try {
    return await createModelSession(beside, { intraOpThreads: opts.intraOpThreads, externalData: g.externalData });
  } finally {
    rmSync(beside, { force: true });
  }
}
