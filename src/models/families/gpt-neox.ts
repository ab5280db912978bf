/**
 * GPT-NeoX / Pythia (`gpt_neox`): a pre-norm decoder with partial rotary positions and, by default, a parallel
 * residual.
 *
 * Per block l, with x the residual stream entering it:
 * - q, k, v from the fused `attention.query_key_value` of `input_layernorm(x)`, whose output is laid out per head as
 *   `[q, k, v]` (viewed as [B, T, heads, 3·d_head], then cut in three); rotary on the first
 *   `d_head × partial_rotary_factor` channels (`rope_parameters.partial_rotary_factor`, or `rotary_pct` in older
 *   configs; base `rope_theta` / `rotary_emb_base`) at `position_ids`; causal + padding-masked attention scaled by
 *   `d_head^-½`; `a = attention.dense(attn)`;
 * - `u = post_attention_layernorm(x)` when `use_parallel_residual` (default), else `post_attention_layernorm(x + a)`;
 * - `blocks.{l}.mlp.hook_pre` = `mlp.dense_h_to_4h(u)`;
 * - `blocks.{l}.mlp.hook_post` = `act(hook_pre)` (`hidden_act`, gelu), the input of `mlp.dense_4h_to_h`;
 * - `blocks.{l}.hook_resid_post` = `x + a + dense_4h_to_h(hook_post)` (both residual forms sum to this), except for
 *   the **last block, whose site is `final_layer_norm` of it**, because transformers' last `hidden_states` entry
 *   (= `last_hidden_state`) has the final norm applied.
 *
 * `embeddings` = `embed_in(input_ids)` (`hidden_states[0]`; no absolute positions). The graph takes `input_ids`,
 * `attention_mask` and `position_ids` (the extractor feeds `cumsum(attention_mask) - 1`).
 */
import { DataType } from '../onnx-writer.js';
import { Weights, type Family, type FamilyContext } from '../family.js';
import { activation } from './fusable.js';
import { ropeFor } from './rope.js';

function gptNeox(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const w = new Weights(ctx.source, ['gpt_neox.'], 'embed_in.weight', ctx.where);
  const H = c.num('hidden_size');
  const heads = c.num('num_attention_heads');
  const L = c.num('num_hidden_layers');
  const eps = c.num('layer_norm_eps', 1e-5);
  const act = c.str('hidden_act', 'gelu');
  const parallel = c.bool('use_parallel_residual', true);
  const dh = H / heads;
  if (!Number.isInteger(dh)) c.unsupported('num_attention_heads', heads, `a divisor of hidden_size ${H}`);
  const rope = ropeFor(c, dh);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const pos = g.input('position_ids', DataType.INT64, ['batch', 'sequence']);

  let x = g.scope('embed_in', () => g.embed(ids, 'embed_in.weight', w.get('embed_in.weight')));
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const bias = g.decoderBias();
  const { cos, sin } = g.rotaryTables(rope.invFreq, pos, rope.attentionScaling);
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}.`;
    const lin = (n: string, y: string) => g.linear(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`));
    const ln = (n: string, y: string) => g.layerNorm(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`), eps);
    const xin = x;
    const a = g.scope(`layers.${l}/attention`, () => {
      const qkv = g.splitHeads(lin('attention.query_key_value', ln('input_layernorm', xin)), heads, 3 * dh); // [B, heads, T, 3·dh]
      const [q0, k0, v] = g.opN('Split', [qkv, g.i64([dh, dh, dh])], 3, { axis: { i: -1 } });
      const q = g.applyRotary(q0, cos, sin, dh, rope.rotDim);
      const k = g.applyRotary(k0, cos, sin, dh, rope.rotDim);
      return lin('attention.dense', g.mergeHeads(g.attend(q, k, v, bias, 1 / Math.sqrt(dh)), heads, dh));
    });
    const h = g.scope(`layers.${l}/attention`, () => g.op('Add', [a, xin]));
    const I = w.get(`${p}mlp.dense_h_to_4h.weight`).shape[0];
    let f = g.scope(`layers.${l}/mlp`, () => lin('mlp.dense_h_to_4h', ln('post_attention_layernorm', parallel ? xin : h)));
    f = g.site(`blocks.${l}.mlp.hook_pre`, f, 'mlp_pre', l, I);
    f = g.site(`blocks.${l}.mlp.hook_post`, g.scope(`layers.${l}/mlp`, () => activation(g, f, act)), 'mlp_post', l, I);
    x = g.scope(`layers.${l}/mlp`, () => g.op('Add', [lin('mlp.dense_4h_to_h', f), h]));
    if (l === L - 1) x = g.scope('final_layer_norm', () => g.layerNorm(x, 'final_layer_norm', w.get('final_layer_norm.weight'), w.opt('final_layer_norm.bias'), eps));
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, H);
  }
}

export const gptNeoxFamily: Family = { types: ['gpt_neox'], build: gptNeox };
