/**
 * The checkpoint builder against transformers: every model folder with reference activations (the shared tiny
 * models and the generated fixtures in src/models/fixtures) extracted with `source: 'safetensors'` matches
 * `reference_{first,last,average}.hdf5` (every hidden state) and `ffn_last.hdf5` (`blocks.*.mlp.hook_post`) within
 * 1e-4, as the fixtures' README asks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { familyFor } from './build.js';
import { referenceFolders, worstAgainstReference } from '../extract/reference-testing.js';

const TOL = 1e-4;

for (const dir of referenceFolders()) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type: string };
  if (!familyFor(config.model_type)) continue; // families whose builder is not in yet are listed by builder.test.ts
  for (const agg of ['last', 'first', 'average'] as const) {
    test(`${dir} (${config.model_type}): checkpoint builder, ${agg} aggregation, every hidden state within ${TOL}`, async () => {
      const r = await worstAgainstReference(dir, join(dir, 'reference', `reference_${agg}.hdf5`), { source: 'safetensors', aggregation: agg });
      assert.ok(r.worst <= TOL, `max abs diff ${r.worst}`);
    });
  }
  const ffnRef = join(dir, 'reference', 'ffn_last.hdf5');
  if (existsSync(ffnRef)) {
    test(`${dir} (${config.model_type}): checkpoint builder, blocks.*.mlp.hook_post within ${TOL}`, async () => {
      const n = (JSON.parse(readFileSync(join(dir, 'reference', 'reference.json'), 'utf8')) as { num_layers: number }).num_layers;
      const r = await worstAgainstReference(dir, ffnRef, { source: 'safetensors', taps: Array.from({ length: n }, (_, l) => `blocks.${l}.mlp.hook_post`) });
      assert.ok(r.worst <= TOL, `max abs diff ${r.worst}`);
    });
  }
  // MLP pre-activations: ffn_pre_last.hdf5 (hook_pre: the pre-activation, for GLU models the gate projection) and
  // ffn_pre_linear_last.hdf5 (hook_pre_linear: the up projection of GLU models), where the fixture has them
  for (const [file, site] of [['ffn_pre_last', 'hook_pre'], ['ffn_pre_linear_last', 'hook_pre_linear']] as const) {
    const ref = join(dir, 'reference', `${file}.hdf5`);
    if (!existsSync(ref)) continue;
    test(`${dir} (${config.model_type}): checkpoint builder, blocks.*.mlp.${site} within ${TOL}`, async () => {
      const n = (JSON.parse(readFileSync(join(dir, 'reference', 'reference.json'), 'utf8')) as { num_layers: number }).num_layers;
      const r = await worstAgainstReference(dir, ref, { source: 'safetensors', taps: Array.from({ length: n }, (_, l) => `blocks.${l}.mlp.${site}`) });
      assert.ok(r.worst <= TOL, `max abs diff ${r.worst}`);
    });
  }
}
