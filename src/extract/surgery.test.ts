import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyseGraph, appendOutputs, readGraph, selectTaps } from './surgery.js';
import { InputError } from '../util/errors.js';

type N = { name: string; op: string; inputs: string[]; outputs: string[] };
const node = (name: string, op: string, inputs: string[], out = `${name}_output_0`): N => ({ name, op, inputs, outputs: [out] });

/** A decomposed LayerNorm module (opset < 17) reading `x`, as torch.onnx exports it. */
function ln(scope: string, x: string, out?: string): N[] {
  return [
    node(`${scope}/ReduceMean`, 'ReduceMean', [x]),
    node(`${scope}/Sub`, 'Sub', [x, `${scope}/ReduceMean_output_0`]),
    node(`${scope}/Div`, 'Div', [`${scope}/Sub_output_0`, 's']),
    node(`${scope}/Mul`, 'Mul', [`${scope}/Div_output_0`, 'w']),
    node(`${scope}/Add_1`, 'Add', [`${scope}/Mul_output_0`, 'b'], out),
  ];
}

test('DistilBERT-style graph: embeddings LayerNorm + output_layer_norm per block + ffn/activation', () => {
  const nodes: N[] = [node('/embeddings/word_embeddings/Gather', 'Gather', ['W', 'input_ids']), ...ln('/embeddings/LayerNorm', '/embeddings/word_embeddings/Gather_output_0')];
  let x = '/embeddings/LayerNorm/Add_1_output_0';
  for (let l = 0; l < 2; l++) {
    const p = `/transformer/layer.${l}`;
    nodes.push(node(`${p}/attention/Add`, 'Add', [x, 'a']));
    nodes.push(...ln(`${p}/sa_layer_norm`, `${p}/attention/Add_output_0`));
    nodes.push(node(`${p}/ffn/lin1/MatMul`, 'MatMul', [`${p}/sa_layer_norm/Add_1_output_0`, 'w1']));
    nodes.push(node(`${p}/ffn/activation/Gelu`, 'Gelu', [`${p}/ffn/lin1/MatMul_output_0`]));
    nodes.push(node(`${p}/ffn/lin2/MatMul`, 'MatMul', [`${p}/ffn/activation/Gelu_output_0`, 'w2']));
    nodes.push(node(`${p}/Add`, 'Add', [`${p}/ffn/lin2/MatMul_output_0`, `${p}/sa_layer_norm/Add_1_output_0`]));
    nodes.push(...ln(`${p}/output_layer_norm`, `${p}/Add_output_0`, l === 1 ? 'last_hidden_state' : undefined));
    x = l === 1 ? 'last_hidden_state' : `${p}/output_layer_norm/Add_1_output_0`;
  }
  const g = analyseGraph(nodes, ['input_ids', 'attention_mask'], ['last_hidden_state']);
  assert.equal(g.family, 'distilbert');
  assert.deepEqual(g.layerTaps.map((t) => [t.name, t.tensor]), [
    ['embeddings', '/embeddings/LayerNorm/Add_1_output_0'],
    ['blocks.0.hook_resid_post', '/transformer/layer.0/output_layer_norm/Add_1_output_0'],
    ['blocks.1.hook_resid_post', 'last_hidden_state'],
  ]);
  assert.deepEqual(g.ffnTaps.map((t) => t.tensor), ['/transformer/layer.0/ffn/activation/Gelu_output_0', '/transformer/layer.1/ffn/activation/Gelu_output_0']);
  // the sa_layer_norm outputs are offered as candidates, not taps
  assert.ok(g.candidates.some((c) => c.tensor === '/transformer/layer.0/sa_layer_norm/Add_1_output_0'));
});

test('GPT-2-style graph: Add(wte, wpe) + last residual Add of each h.{l}, the last one after ln_f (= hidden_states) + MLP sites', () => {
  const nodes: N[] = [
    node('/transformer/wte/Gather', 'Gather', ['wte', 'input_ids']),
    node('/transformer/wpe/Gather', 'Gather', ['wpe', 'pos']),
    node('/transformer/Add', 'Add', ['/transformer/wte/Gather_output_0', '/transformer/wpe/Gather_output_0']),
  ];
  let x = '/transformer/Add_output_0';
  for (let l = 0; l < 3; l++) {
    const p = `/transformer/h.${l}`;
    nodes.push(...ln(`${p}/ln_1`, x));
    nodes.push(node(`${p}/attn/c_proj/Add`, 'Add', [`${p}/ln_1/Add_1_output_0`, 'b']));
    nodes.push(node(`${p}/Add`, 'Add', [`${p}/attn/c_proj/Add_output_0`, x]));
    nodes.push(...ln(`${p}/ln_2`, `${p}/Add_output_0`));
    nodes.push(node(`${p}/mlp/c_fc/Add`, 'Add', [`${p}/ln_2/Add_1_output_0`, 'b']));
    nodes.push(node(`${p}/mlp/act/Mul`, 'Mul', [`${p}/mlp/c_fc/Add_output_0`, 'h']));
    nodes.push(node(`${p}/mlp/act/Mul_1`, 'Mul', [`${p}/mlp/act/Mul_output_0`, 'k']));
    nodes.push(node(`${p}/mlp/c_proj/Add`, 'Add', [`${p}/mlp/act/Mul_1_output_0`, 'b']));
    nodes.push(node(`${p}/Add_1`, 'Add', [`${p}/Add_output_0`, `${p}/mlp/c_proj/Add_output_0`]));
    x = `${p}/Add_1_output_0`;
  }
  nodes.push(...ln('/transformer/ln_f', x, 'last_hidden_state'));
  const g = analyseGraph(nodes, ['input_ids', 'attention_mask'], ['last_hidden_state']);
  assert.equal(g.family, 'gpt2');
  assert.deepEqual(g.layerTaps.map((t) => t.tensor), [
    '/transformer/Add_output_0',
    '/transformer/h.0/Add_1_output_0',
    '/transformer/h.1/Add_1_output_0',
    'last_hidden_state', // transformers' last hidden_states entry has ln_f applied
  ]);
  assert.deepEqual(g.ffnTaps.map((t) => t.name), ['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post', 'blocks.2.mlp.hook_post']);
  assert.equal(g.ffnTaps[2].tensor, '/transformer/h.2/mlp/act/Mul_1_output_0'); // the input of mlp/c_proj
  assert.deepEqual(g.mlpTaps?.map((t) => [t.name, t.tensor]), [0, 1, 2].map((l) => [`blocks.${l}.mlp.hook_pre`, `/transformer/h.${l}/mlp/c_fc/Add_output_0`]));
  assert.ok(g.candidates.some((c) => c.tensor === '/transformer/h.2/Add_1_output_0')); // the raw residual stays a candidate
  // site globs select in layer order
  assert.deepEqual(selectTaps(g, { taps: ['blocks.2.*', 'blocks.0.mlp.hook_p*'] }).map((t) => t.name), [
    'blocks.0.mlp.hook_pre',
    'blocks.0.mlp.hook_post',
    'blocks.2.mlp.hook_pre',
    'blocks.2.mlp.hook_post',
    'blocks.2.hook_resid_post',
  ]);
  assert.throws(() => selectTaps(g, { taps: ['blocks.9.*'] }), /matches no site/);
});

test('RoBERTa-style names with a model prefix and fused LayerNormalization nodes', () => {
  const nodes: N[] = [
    node('/roberta/embeddings/Add', 'Add', ['e', 'p']),
    node('/roberta/embeddings/LayerNorm/LayerNormalization', 'LayerNormalization', ['/roberta/embeddings/Add_output_0', 'w', 'b']),
  ];
  let x = '/roberta/embeddings/LayerNorm/LayerNormalization_output_0';
  for (let l = 0; l < 2; l++) {
    const p = `/roberta/encoder/layer.${l}`;
    nodes.push(node(`${p}/attention/output/Add`, 'Add', [x, 'a']));
    nodes.push(node(`${p}/attention/output/LayerNorm/LayerNormalization`, 'LayerNormalization', [`${p}/attention/output/Add_output_0`, 'w', 'b']));
    nodes.push(node(`${p}/output/Add`, 'Add', [`${p}/attention/output/LayerNorm/LayerNormalization_output_0`, 'c']));
    nodes.push(node(`${p}/output/LayerNorm/LayerNormalization`, 'LayerNormalization', [`${p}/output/Add_output_0`, 'w', 'b']));
    x = `${p}/output/LayerNorm/LayerNormalization_output_0`;
  }
  nodes.push(node('/pooler/Gather', 'Gather', [x, 'zero']));
  const g = analyseGraph(nodes, ['input_ids'], ['/pooler/Gather_output_0']);
  assert.equal(g.family, 'bert');
  assert.deepEqual(g.layerTaps.map((t) => t.name), ['embeddings', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
  assert.equal(g.layerTaps[2].tensor, '/roberta/encoder/layer.1/output/LayerNorm/LayerNormalization_output_0');
  assert.equal(g.ffnTaps.length, 0);
  assert.throws(() => selectTaps(g, { ffn: true }), InputError);
});

test('a graph without recognisable module names is refused with candidates, not mapped wrongly', () => {
  const nodes: N[] = [node('n0', 'Gather', ['W', 'input_ids']), node('n1', 'LayerNormalization', ['n0_output_0', 'w', 'b']), node('n2', 'MatMul', ['n1_output_0', 'w'], 'out')];
  const g = analyseGraph(nodes, ['input_ids'], ['out']);
  assert.equal(g.family, 'unknown');
  assert.deepEqual(g.layerTaps, []);
  assert.throws(() => selectTaps(g, {}), (e: unknown) => e instanceof InputError && /cannot map/.test(e.message) && /n1_output_0/.test(e.message));
  // explicit taps still work, but never integer shape tensors
  assert.deepEqual(selectTaps(g, { taps: ['n1_output_0'] }).map((t) => t.kind), ['custom']);
  const shaped = analyseGraph([...nodes, node('s', 'Shape', ['n0_output_0'])], ['input_ids'], ['out']);
  assert.throws(() => selectTaps(shaped, { taps: ['s_output_0'] }), InputError);
  assert.throws(() => selectTaps(g, { taps: ['nope'] }), InputError);
});

test('appendOutputs adds outputs readable by the ONNX parser and skips existing ones', () => {
  const bytes = new Uint8Array(readFileSync('assets/models/bert-mini-en/onnx/model.onnx'));
  const out = appendOutputs(bytes, ['/embeddings/LayerNorm/Add_1_output_0', 'last_hidden_state'], ['last_hidden_state']);
  assert.ok(out.length > bytes.length && out.length < bytes.length + 100);
  const g = readGraph(out);
  assert.deepEqual(g.outputs, ['last_hidden_state', '/embeddings/LayerNorm/Add_1_output_0']);
  assert.equal(appendOutputs(bytes, ['last_hidden_state'], ['last_hidden_state']), bytes);
});
