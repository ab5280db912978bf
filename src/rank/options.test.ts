/** Ranker options are typed per ranker (registry specs): misspelt keys and out-of-range values are input errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../util/errors.js';
import { denseSource } from '../store/views.js';
import { plantedProblem } from '../probe/testing.js';
import { RANKERS, rankNeurons } from './registry.js';
import type { Ranker } from './types.js';

const P = plantedProblem(80, 6, 2, 2, 3);
const input = { X: denseSource(P.X), y: P.y, labels: ['a', 'b'] };

test('ranker options: declared per ranker; a typo gets a "did you mean", a bad value names the range', () => {
  assert.deepEqual(RANKERS.gaussian.options?.map((p) => p.name), ['k', 'maxRows', 'pool']);
  assert.throws(() => rankNeurons('iou', { ...input, options: { treshold: 0.1 } }), (e: unknown) => e instanceof InputError && /unknown iou ranker option 'treshold' \(did you mean 'threshold'\?\)/.test(e.message));
  assert.throws(() => rankNeurons('iou', { ...input, options: { threshold: -1 } }), (e: unknown) => e instanceof InputError && /threshold=-1/.test(e.message) && /≥ 0/.test(String((e as InputError).message + JSON.stringify(e))));
  assert.throws(() => rankNeurons('gaussian', { ...input, options: { k: 2.5 } }), /k=2.5/);
  // an option of another ranker passes (one options object may serve several rankers), and changes nothing here
  const a = rankNeurons('selectivity', { ...input, options: { threshold: 0.2 } });
  const b = rankNeurons('selectivity', input);
  assert.deepEqual(a.ordering, b.ordering);
  // a value inside the range is used: a different IoU threshold gives different scores
  const t0 = rankNeurons('iou', { ...input, options: { threshold: 0 } });
  const t1 = rankNeurons('iou', { ...input, options: { threshold: 1.5 } });
  assert.notDeepEqual(t0.scores, t1.scores);
  // a custom ranker without options rejects unknown keys too
  const custom: Ranker = { name: 'mine', description: 'identity order', needs: 'none', rank: () => ({ method: 'mine', ordering: Int32Array.from([0, 1, 2, 3, 4, 5]) }) };
  assert.throws(() => rankNeurons(custom, { ...input, options: { nope: 1 } }), InputError);
  assert.equal(rankNeurons(custom, { ...input, options: { k: 3 } }).ordering.length, 6);
});
