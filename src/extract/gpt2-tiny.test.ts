/**
 * End to end on a runnable GPT-2-shaped graph built here (no attention: each block is LN → linear → residual add,
 * LN → linear → tanh → linear → residual add, then ln_f), with a byte-level BPE tokenizer: context-mode alignment
 * (Ġ pieces), no special tokens, position_ids fed by the extractor, GPT-2 taps found and read at run time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { Rng } from '../util/rng.js';
import { Extractor } from './extractor.js';
import { MemoryActivationWriter } from './memory-writer.js';
import type { Sentence } from '../data/types.js';

const D = 8;
const VOCAB = ['a', 'b', 'c', 'Ġ', 'Ġa', 'Ġb', 'bc', 'Ġbc', 'Ġc', 'cb', 'Ġcb', '<|endoftext|>'];
const MERGES = ['b c', 'c b', 'Ġ bc', 'Ġ cb', 'Ġ a', 'Ġ b', 'Ġ c'];
const tmp = mkdtempSync(join(tmpdir(), 'np-gpt2-'));

function tensor(name: string, dims: number[], data: Float32Array) {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, floatData: [...data] });
}
function node(name: string, opType: string, input: string[], attrs: Array<{ name: string; f: number }> = []) {
  return create(NodeProtoSchema, {
    name,
    opType,
    input,
    output: [`${name}_output_0`],
    attribute: attrs.map((a) => create(AttributeProtoSchema, { name: a.name, type: AttributeProto_AttributeType.FLOAT, f: a.f })),
  });
}
function int64Input(name: string) {
  const dim = (p: string) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: p } });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: TensorProto_DataType.INT64, shape: create(TensorShapeProtoSchema, { dim: [dim('batch'), dim('seq')] }) }) } }),
  });
}

const rng = new Rng(7);
const rand = (n: number, scale = 0.5) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
const wte = rand(VOCAB.length * D);
const wpe = rand(16 * D);

function buildModel(): Uint8Array {
  const inits = [tensor('wte', [VOCAB.length, D], wte), tensor('wpe', [16, D], wpe), tensor('ones', [D], new Float32Array(D).fill(1)), tensor('zeros', [D], new Float32Array(D))];
  const nodes = [node('/transformer/wte/Gather', 'Gather', ['wte', 'input_ids']), node('/transformer/wpe/Gather', 'Gather', ['wpe', 'position_ids'])];
  nodes.push(node('/transformer/Add', 'Add', ['/transformer/wte/Gather_output_0', '/transformer/wpe/Gather_output_0']));
  let x = '/transformer/Add_output_0';
  for (let l = 0; l < 2; l++) {
    const p = `/transformer/h.${l}`;
    inits.push(tensor(`w${l}a`, [D, D], rand(D * D)), tensor(`w${l}f`, [D, 2 * D], rand(2 * D * D)), tensor(`w${l}p`, [2 * D, D], rand(2 * D * D)));
    nodes.push(node(`${p}/ln_1/LayerNormalization`, 'LayerNormalization', [x, 'ones', 'zeros'], [{ name: 'epsilon', f: 1e-5 }]));
    nodes.push(node(`${p}/attn/c_proj/MatMul`, 'MatMul', [`${p}/ln_1/LayerNormalization_output_0`, `w${l}a`]));
    nodes.push(node(`${p}/Add`, 'Add', [x, `${p}/attn/c_proj/MatMul_output_0`]));
    nodes.push(node(`${p}/ln_2/LayerNormalization`, 'LayerNormalization', [`${p}/Add_output_0`, 'ones', 'zeros'], [{ name: 'epsilon', f: 1e-5 }]));
    nodes.push(node(`${p}/mlp/c_fc/MatMul`, 'MatMul', [`${p}/ln_2/LayerNormalization_output_0`, `w${l}f`]));
    nodes.push(node(`${p}/mlp/act/Tanh`, 'Tanh', [`${p}/mlp/c_fc/MatMul_output_0`]));
    nodes.push(node(`${p}/mlp/c_proj/MatMul`, 'MatMul', [`${p}/mlp/act/Tanh_output_0`, `w${l}p`]));
    nodes.push(node(`${p}/Add_1`, 'Add', [`${p}/Add_output_0`, `${p}/mlp/c_proj/MatMul_output_0`]));
    x = `${p}/Add_1_output_0`;
  }
  const lnf = node('/transformer/ln_f/LayerNormalization', 'LayerNormalization', [x, 'ones', 'zeros'], [{ name: 'epsilon', f: 1e-5 }]);
  lnf.output = ['last_hidden_state'];
  nodes.push(lnf);
  const graph = create(GraphProtoSchema, {
    name: 'tiny-gpt2',
    node: nodes,
    initializer: inits,
    input: [int64Input('input_ids'), int64Input('attention_mask'), int64Input('position_ids')],
    output: [create(ValueInfoProtoSchema, { name: 'last_hidden_state' })],
  });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 8n, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })], graph }));
}

function writeModelDir(): string {
  const dir = join(tmp, 'tiny-gpt2');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), buildModel());
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_positions: 16, n_embd: D, n_layer: 2 }));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: VOCAB.length - 1, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(VOCAB.map((v, i) => [v, i])), merges: MERGES },
    }),
  );
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer' }));
  return dir;
}

const sent = (forms: string[]): Sentence => ({ id: forms.join(' '), words: forms.map((form) => ({ form, cols: {} })) });

test('tiny GPT-2: taps, pieces of each word alone (no prefix space), position ids and embeddings (layer 0 = wte + wpe of the last piece)', async () => {
  const ex = await Extractor.create({ model: writeModelDir(), ffn: true });
  try {
    assert.equal(ex.graph.family, 'gpt2');
    assert.deepEqual(ex.taps.map((t) => t.name), ['embeddings', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
    assert.deepEqual(ex.widths, [D, D, D, 2 * D, 2 * D]);
    assert.equal(ex.maxLength, 16);
    assert.deepEqual(ex.tokenizer.prefix.ids, []);
    assert.equal(ex.tokenizer.padId, VOCAB.length - 1);
    const s = sent(['bc', 'cb', 'a', 'bcb']);
    const w = new MemoryActivationWriter(ex.cols);
    await ex.extract([s, sent(['a']), sent(['\u200b'])], w, { aggregation: 'last' });
    assert.ok(w.sentences[2].rows.every((v) => v === 0)); // a sentence of zero-piece words: zero rows, no crash
    // each word alone, as transformers' is_split_into_words (this pre-tokenizer adds no prefix space):
    // pieces: bc | cb | a | bc b  → positions 0 | 1 | 2 | 3 4; last pieces: bc@0, cb@1, a@2, b@4
    const expect: Array<[string, number]> = [['bc', 0], ['cb', 1], ['a', 2], ['b', 4]];
    expect.forEach(([piece, pos], t) => {
      const id = VOCAB.indexOf(piece);
      for (let d = 0; d < D; d++) assert.ok(Math.abs(w.sentences[0].rows[t * ex.cols + d] - (wte[id * D + d] + wpe[pos * D + d])) < 1e-6, `word ${t} dim ${d}`);
    });
    // tanh FFN taps stay in (-1, 1)
    const r = w.sentences[0].rows;
    for (let t = 0; t < 4; t++) for (let d = 3 * D; d < ex.cols; d++) assert.ok(Math.abs(r[t * ex.cols + d]) < 1);
  } finally {
    await ex.dispose();
  }
});

test('tiny GPT-2: windows restart positions; words owned by a window equal a direct run of that window', async () => {
  const dir = join(tmp, 'tiny-gpt2');
  const ex = await Extractor.create({ model: dir, maxLength: 4, stride: 2 });
  const full = await Extractor.create({ model: dir });
  try {
    const forms = ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b'];
    const w = new MemoryActivationWriter(ex.cols);
    const stats = await ex.extract([sent(forms)], w);
    assert.ok(stats.windows >= 3);
    const { segments } = ex.segment(0, ex.tokenizer.sentencePieces(forms));
    for (const seg of segments) {
      const sub = forms.slice(seg.startWord, seg.startWord + seg.spans.length);
      const ww = new MemoryActivationWriter(full.cols);
      await full.extract([sent(sub)], ww);
      // every word is tokenized alone, so a window's words get the same pieces in the direct run
      for (const word of seg.owned) {
        const a = w.sentences[0].rows.subarray(word * ex.cols, (word + 1) * ex.cols);
        const b = ww.sentences[0].rows.subarray((word - seg.startWord) * ex.cols, (word - seg.startWord + 1) * ex.cols);
        assert.ok(a.every((v, k) => Math.abs(v - b[k]) < 1e-5), `word ${word}`);
      }
    }
  } finally {
    await ex.dispose();
    await full.dispose();
  }
});

test('cleanup', () => rmSync(tmp, { recursive: true, force: true }));
