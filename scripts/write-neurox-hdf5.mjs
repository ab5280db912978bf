// Writes NeuroX-layout hdf5 files for scripts/make-tiny-fixtures.py (whose Python has no h5py): one float32 dataset per
// sentence ("0", "1", …, contiguous) and "sentence_to_index" (shape (1,), variable-length UTF-8 string), with the
// earliest HDF5 format version so that any libhdf5 from 1.8 on (h5py, NeuroX) reads it.
//
// usage: node scripts/write-neurox-hdf5.mjs MANIFEST.json
// MANIFEST: { "out": path, "sentence_to_index": json text, "raw": path of float32 little-endian data,
//             "datasets": [{ "name": "0", "shape": [l, w, d], "offset": element offset in raw }] }
import { readFileSync, renameSync, rmSync } from 'node:fs';
import h5wasm from 'h5wasm/node';

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
await h5wasm.ready;
const raw = readFileSync(manifest.raw);
const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const tmp = `${manifest.out}.tmp`;
rmSync(tmp, { force: true });
const file = new h5wasm.File(tmp, 'w', { libver: ['earliest', 'latest'] });
for (const d of manifest.datasets) {
  const n = d.shape.reduce((a, b) => a * b, 1);
  file.create_dataset({ name: d.name, data: all.slice(d.offset, d.offset + n), shape: d.shape, dtype: '<f' });
}
file.create_dataset({ name: 'sentence_to_index', data: [manifest.sentence_to_index], shape: [1], dtype: 'S' });
file.close();
renameSync(tmp, manifest.out);
