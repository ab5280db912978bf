import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelRoute } from './model-route.js';
import { UsageError } from '../util/errors.js';

test('--source and --random-init: parsed once for every command; bad values are usage errors naming the flag and what was expected', () => {
  assert.deepEqual(parseModelRoute({}), { source: 'auto' });
  assert.deepEqual(parseModelRoute({ source: 'onnx' }), { source: 'onnx' });
  assert.deepEqual(parseModelRoute({ source: 'safetensors', randomInit: '7' }), { source: 'safetensors', randomInit: 7 });
  assert.throws(() => parseModelRoute({ source: 'pytorch' }), (e: unknown) => e instanceof UsageError && /--source pytorch/.test(e.message) && /auto, safetensors or onnx/.test(e.message));
  for (const bad of ['-1', '1.5', 'x']) {
    assert.throws(() => parseModelRoute({ randomInit: bad }), (e: unknown) => e instanceof UsageError && e.message.includes(`--random-init ${bad}`) && /non-negative integer seed/.test(e.message));
  }
});
