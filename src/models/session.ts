/**
 * ONNX Runtime sessions for graphs whose weights stay in files (ONNX external data, resolved relative to the graph
 * file and mapped from disk): the checkpoint builder's graphs, and surgered ONNX exports with `model.onnx_data`.
 * The graph (nodes only for built graphs) is written as a hidden temporary file beside the weight files, or, when
 * that folder is read-only, into a temporary folder holding hard links to them; the temporary files are removed as
 * soon as the session exists. Where no hard link can be made (another file system), the weight files are read into
 * memory instead. Nothing of the weights is converted or copied on disk.
 */
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createModelSession, type ModelSession } from '../runtime/ort.js';
import { InputError } from '../util/errors.js';
import type { EncodedGraph } from './build.js';

let counter = 0;

/**
 * A session for graph bytes whose external data are the `files` (paths relative to `dir`, as the graph names them),
 * plus in-memory external data when no file is referenced.
 */
export async function sessionBesideFiles(
  graph: Uint8Array,
  dir: string,
  files: string[],
  opts: { intraOpThreads?: number; externalData?: Array<{ path: string; data: Uint8Array }> } = {},
): Promise<ModelSession> {
  const threads = opts.intraOpThreads;
  if (!files.length) return createModelSession(graph, { intraOpThreads: threads, externalData: opts.externalData });
  const name = `.neuroprobe-graph-${process.pid}-${counter++}.onnx`;
  const beside = join(dir, name);
  try {
    writeFileSync(beside, graph);
  } catch {
    // read-only folder: hard links in a temporary folder (same inode, no copy)
    const tmp = mkdtempSync(join(tmpdir(), 'neuroprobe-graph-'));
    try {
      try {
        for (const f of files) {
          mkdirSync(dirname(join(tmp, f)), { recursive: true });
          linkSync(join(dir, f), join(tmp, f));
        }
      } catch {
        // another file system: hand ONNX Runtime the files' bytes in memory
        const data = files.map((f) => ({ path: f, data: new Uint8Array(readFileSync(join(dir, f))) }));
        return await createModelSession(graph, { intraOpThreads: threads, externalData: data });
      }
      writeFileSync(join(tmp, name), graph);
      return await createModelSession(join(tmp, name), { intraOpThreads: threads });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  try {
    return await createModelSession(beside, { intraOpThreads: threads });
  } finally {
    rmSync(beside, { force: true });
  }
}

/** Create the session of a built graph (see the module comment). */
export async function createGraphSession(g: EncodedGraph, opts: { intraOpThreads?: number } = {}): Promise<ModelSession> {
  const dirs = new Set(g.weightFiles.map((f) => dirname(f)));
  if (dirs.size > 1) throw new InputError(`the checkpoint's weight files lie in several folders (${[...dirs].join(', ')})`, { expected: 'all shards in the folder of model.safetensors.index.json' });
  const dir = g.weightFiles.length ? dirname(g.weightFiles[0]) : '.';
  return sessionBesideFiles(g.model, dir, g.weightFiles.map((f) => basename(f)), { intraOpThreads: opts.intraOpThreads, externalData: g.externalData });
}
