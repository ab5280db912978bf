/**
 * XLNet (`xlnet`), the bidirectional content stream as transformers' `XLNetModel` computes it at inference: no
 * permutation mask, no target mapping (so no query stream), no memory, `attn_type` "bi", `bi_data` false.
 *
 * Post-norm blocks with relative attention. For queries i and keys j of one sequence of length T, head n:
 *
 *   score[i, j] = ((q_i + r_w_bias)·k_j + (q_i + r_r_bias)·R(i − j) + (q_i + r_s_bias)·seg_embed[s_ij]) / √d_head
 *
 * where `R(p) = [sin(p·f), cos(p·f)] · r` is the sinusoidal encoding of the relative position p (frequencies
 * `f_k = 10000^(−2k/d_model)`, p clamped to ±`clamp_len` when it is > 0) and `s_ij` is 0 when tokens i and j have the
 * same `token_type_ids` and 1 otherwise. transformers gets `R(i − j)` by scoring the 2T positions T … −T + 1 and
 * applying `rel_shift_bnij`; the graph does the same (reshape, drop a row, reshape, keep T columns). A key j that is
 * padding (`attention_mask` 0) is masked for every query but itself, as transformers' `non_tgt_mask` does. Since only
 * i − j and the segment match enter the scores, a left-padded sentence gives the same values as the sentence alone.
 *
 * Then `h = LN(x + o·attn)` and `y = LN(h + layer_2(act(layer_1(h))))` (`ff_activation`, `layer_norm_eps`). Sites:
 * `embeddings` = the word embedding (XLNet has no absolute position embedding; transformers' `hidden_states[0]`),
 * `blocks.{l}.mlp.hook_pre` = `layer_1(h)`, `blocks.{l}.mlp.hook_post` = `act(layer_1(h))` (the input of
 * `layer_2`), `blocks.{l}.hook_resid_post` = the block output (`hidden_states[l + 1]`).
 *
 * Inputs: `input_ids`, `attention_mask`, `token_type_ids` (the tokenizer's: 0 for the words and `<sep>`, 2 for
 * `<cls>`). XLNet's tokenizer pads on the left.
 */
import { DataType } from '../onnx-writer.js';
import type { Tensor } from '../checkpoint.js';
import { Weights, type Family, type FamilyContext } from '../family.js';

const NEG = -1e9;
/** Slice end meaning "to the end of the axis". */
const TO_END = 2 ** 53 - 1;

/** [s, n, d] → [n, d, s] (the segment embedding as the right operand of q · segᵀ). */
function segmentOperand(t: Tensor): Tensor {
  const [S, N, Dh] = t.shape;
  const out = new Float32Array(S * N * Dh);
  for (let s = 0; s < S; s++) for (let n = 0; n < N; n++) for (let d = 0; d < Dh; d++) out[(n * Dh + d) * S + s] = t.data[(s * N + n) * Dh + d];
  return { data: out, shape: [N, Dh, S] };
}

/** A [d_model, n_head, d_head] projection as a 2-D [d_model, n_head·d_head] matrix (same bytes). */
function flatten3(t: Tensor): Tensor {
  return { data: t.data, shape: [t.shape[0], t.shape[1] * t.shape[2]] };
}

function xlnet(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const w = new Weights(ctx.source, ['transformer.'], 'word_embedding.weight', ctx.where);
  const D = c.num(['d_model', 'hidden_size']);
  const L = c.num(['n_layer', 'num_hidden_layers']);
  const eps = c.num('layer_norm_eps', 1e-12);
  const act = c.str('ff_activation', 'gelu');
  const attnType = c.str('attn_type', 'bi');
  if (attnType !== 'bi') c.unsupported('attn_type', attnType, '"bi" (the bidirectional content stream)');
  if (c.bool('bi_data', false)) c.unsupported('bi_data', true, 'false');
  const clampLen = c.num('clamp_len', -1);
  if (D % 2 !== 0) c.unsupported('d_model', D, 'an even width (sinusoidal relative positions)');
  const q0 = w.get('layer.0.rel_attn.q');
  const heads = q0.shape[1];
  const dh = q0.shape[2];
  const scale = 1 / Math.sqrt(dh);

  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const tti = g.input('token_type_ids', DataType.INT64, ['batch', 'sequence']);

  let x = g.scope('word_embedding', () => g.embed(ids, 'word_embedding.weight', w.get('word_embedding.weight')));
  x = g.site('embeddings', x, 'embeddings', 0, D);

  // What every layer shares: relative position encodings, the padding bias and the segment mismatch matrix.
  const { posEmb, T1, bias, segDiff } = g.scope('relative', () => {
    const T1 = g.seqLen(ids); // [1]
    const T = g.op('Squeeze', [T1, g.i64([0])]);
    // positions T, T-1, ..., -T+1 (transformers: arange(klen, -qlen, -1))
    let pos = g.op('Cast', [g.op('Range', [T, g.op('Neg', [T]), g.i64([-1], [])])], { to: { i: DataType.FLOAT } });
    if (clampLen > 0) pos = g.op('Clip', [pos, g.f32([-clampLen], []), g.f32([clampLen], [])]);
    const invFreq = new Float32Array(D / 2);
    for (let k = 0; k < D / 2; k++) invFreq[k] = Math.fround(1 / Math.fround(Math.pow(10000, Math.fround((2 * k) / D))));
    const sinusoid = g.op('Mul', [g.op('Unsqueeze', [pos, g.i64([1])]), g.f32(invFreq, [1, D / 2])]); // [2T, D/2]
    const posEmb = g.op('Concat', [g.op('Sin', [sinusoid]), g.op('Cos', [sinusoid])], { axis: { i: -1 } }); // [2T, D]
    // padding: key j masked (for every query but j itself) where attention_mask is 0
    const r = g.op('Range', [g.i64([0], []), T, g.i64([1], [])]);
    const notEye = g.op('Cast', [g.op('Not', [g.op('Equal', [g.op('Unsqueeze', [r, g.i64([1])]), g.op('Unsqueeze', [r, g.i64([0])])])])], { to: { i: DataType.FLOAT } }); // [T, T]
    const padded = g.op('Sub', [g.f32([1], []), g.op('Cast', [mask], { to: { i: DataType.FLOAT } })]); // [B, T]
    const keyMask = g.op('Mul', [g.op('Unsqueeze', [padded, g.i64([1])]), notEye]); // [B, T, T]
    const bias = g.op('Unsqueeze', [g.op('Mul', [keyMask, g.f32([NEG], [])]), g.i64([1])]); // [B, 1, T, T]
    // segments: 1 where tokens i and j have different token types
    const diff = g.op('Not', [g.op('Equal', [g.op('Unsqueeze', [tti, g.i64([2])]), g.op('Unsqueeze', [tti, g.i64([1])])])]);
    const segDiff = g.op('Unsqueeze', [g.op('Cast', [diff], { to: { i: DataType.FLOAT } }), g.i64([1])]); // [B, 1, T, T]
    return { posEmb, T1, bias, segDiff };
  });
  const shapeRows = g.op('Concat', [g.i64([0, 0, -1]), T1], { axis: { i: 0 } }); // [B, n, 2T, T]
  const shapeCols = g.op('Concat', [g.i64([0, 0]), T1, g.i64([-1])], { axis: { i: 0 } }); // [B, n, T, 2T-1]

  for (let l = 0; l < L; l++) {
    const p = `layer.${l}.`;
    const a = `${p}rel_attn.`;
    x = g.scope(`layer.${l}`, () => {
      const proj = (n: string) => g.splitHeads(g.linear(x, `${a}${n}`, flatten3(w.get(`${a}${n}`)), undefined, { inOut: true }), heads, dh);
      const headBias = (n: string) => g.weight(`${a}${n}`, { data: w.get(`${a}${n}`).data, shape: [heads, 1, dh] }); // [n, 1, d]
      const q = proj('q');
      const k = proj('k');
      const v = proj('v');
      // position term: (q + r_r_bias) · R for the 2T relative positions, then rel_shift_bnij → (q_i + r_r_bias)·R(i − j)
      const kr = g.op('Transpose', [g.op('Reshape', [g.op('MatMul', [posEmb, g.weight(`${a}r`, flatten3(w.get(`${a}r`)))]), g.i64([-1, heads, dh])])], { perm: { ints: [1, 2, 0] } }); // [n, d, 2T]
      let bd = g.op('MatMul', [g.op('Add', [q, headBias('r_r_bias')]), kr]); // [B, n, T, 2T]
      bd = g.op('Slice', [g.op('Reshape', [bd, shapeRows]), g.i64([1]), g.i64([TO_END]), g.i64([2])]); // [B, n, 2T-1, T]
      bd = g.op('Slice', [g.op('Reshape', [bd, shapeCols]), g.i64([0]), T1, g.i64([3])]); // [B, n, T, T]
      // segment term: (q_i + r_s_bias) · seg_embed[same ? 0 : 1]
      const e = g.op('MatMul', [g.op('Add', [q, headBias('r_s_bias')]), g.weight(`${a}seg_embed^T`, segmentOperand(w.get(`${a}seg_embed`)))]); // [B, n, T, 2]
      const e0 = g.op('Slice', [e, g.i64([0]), g.i64([1]), g.i64([3])]);
      const e1 = g.op('Slice', [e, g.i64([1]), g.i64([2]), g.i64([3])]);
      const ef = g.op('Add', [e0, g.op('Mul', [g.op('Sub', [e1, e0]), segDiff])]); // [B, n, T, T]
      const scoreBias = g.op('Add', [g.op('Mul', [g.op('Add', [bd, ef]), g.f32([scale], [])]), bias]);
      // content term inside attend: softmax((q + r_w_bias)·kᵀ · scale + scoreBias) v
      const att = g.mergeHeads(g.attend(g.op('Add', [q, headBias('r_w_bias')]), k, v, scoreBias, scale), heads, dh);
      const o = g.linear(att, `${a}o`, flatten3(w.get(`${a}o`))); // einsum("ibnd,hnd->ibh"): o is [d_model, n·d] = nn.Linear [out, in]
      const h = g.layerNorm(g.op('Add', [o, x]), `${a}layer_norm`, w.get(`${a}layer_norm.weight`), w.get(`${a}layer_norm.bias`), eps);
      const ff = `${p}ff.`;
      const w1 = w.get(`${ff}layer_1.weight`);
      const I = w1.shape[0];
      let f = g.linear(h, `${ff}layer_1`, w1, w.get(`${ff}layer_1.bias`));
      f = g.site(`blocks.${l}.mlp.hook_pre`, f, 'mlp_pre', l, I);
      f = g.site(`blocks.${l}.mlp.hook_post`, g.activation(f, act), 'mlp_post', l, I);
      const y = g.linear(f, `${ff}layer_2`, w.get(`${ff}layer_2.weight`), w.get(`${ff}layer_2.bias`));
      return g.layerNorm(g.op('Add', [y, h]), `${ff}layer_norm`, w.get(`${ff}layer_norm.weight`), w.get(`${ff}layer_norm.bias`), eps);
    });
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, D);
  }
}

export const xlnetFamily: Family = {
  types: ['xlnet'],
  padLeft: true,
  build: xlnet,
  // XLNetPreTrainedModel._init_weights draws q, k, v, o, r, seg_embed and the three relative-attention biases
  // N(0, initializer_range); the biases' names would otherwise make them zeros
  randomNormal: (name) => /rel_attn\.r_[wrs]_bias$/.test(name),
};
