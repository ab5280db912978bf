/**
 * GPT-2 (`gpt2`): a pre-norm decoder with learned absolute positions and `Conv1D` weights stored [in, out].
 *
 * Per block l, with x the residual stream entering it:
 * - `h = x + c_proj(Attn(ln_1(x)))` (causal, padding-masked attention; q, k, v are the three thirds of `c_attn`;
 *   scores scaled by 1/√d_head when `scale_attn_weights`, and by 1/(l+1) when `scale_attn_by_inverse_layer_idx`);
 * - `blocks.{l}.mlp.hook_pre` = `c_fc(ln_2(h))`;
 * - `blocks.{l}.mlp.hook_post` = `act(hook_pre)` (`activation_function`, usually gelu_new), the input of `mlp.c_proj`;
 * - `blocks.{l}.hook_resid_post` = `h + c_proj(hook_post)`, except for the **last block, whose site is `ln_f` of it**,
 *   because transformers' last `hidden_states` entry (= `last_hidden_state`) has the final norm applied.
 *
 * `embeddings` = `wte(input_ids) + wpe(position_ids)` (`hidden_states[0]`). The graph takes `input_ids`,
 * `attention_mask` and `position_ids` (the extractor feeds `cumsum(attention_mask) - 1`).
 */
import { DataType } from '../onnx-writer.js';
import { Weights, type Family, type FamilyContext } from '../family.js';
import { activation } from './fusable.js';

function gpt2(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const w = new Weights(ctx.source, ['transformer.'], 'wte.weight', ctx.where);
  const H = c.num(['n_embd', 'hidden_size']);
  const heads = c.num(['n_head', 'num_attention_heads']);
  const L = c.num(['n_layer', 'num_hidden_layers']);
  const eps = c.num('layer_norm_epsilon', 1e-5);
  const act = c.str('activation_function', 'gelu_new');
  const dh = H / heads;
  if (!Number.isInteger(dh)) c.unsupported('n_head', heads, `a divisor of n_embd ${H}`);
  if (c.bool('add_cross_attention', false)) c.unsupported('add_cross_attention', true, 'false (a plain decoder)');
  const scaleWeights = c.bool('scale_attn_weights', true);
  const byLayer = c.bool('scale_attn_by_inverse_layer_idx', false);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const pos = g.input('position_ids', DataType.INT64, ['batch', 'sequence']);

  let x = g.scope('embeddings', () => g.op('Add', [g.embed(ids, 'wte.weight', w.get('wte.weight')), g.embed(pos, 'wpe.weight', w.get('wpe.weight'))]));
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const bias = g.decoderBias();
  for (let l = 0; l < L; l++) {
    const p = `h.${l}.`;
    const lin = (n: string, y: string) => g.linear(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`), { inOut: true });
    const ln = (n: string, y: string) => g.layerNorm(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`), eps);
    const xin = x;
    const h = g.scope(`h.${l}/attn`, () => {
      const qkv = lin('attn.c_attn', ln('ln_1', xin));
      const [q, k, v] = g.opN('Split', [qkv, g.i64([H, H, H])], 3, { axis: { i: -1 } }).map((t) => g.splitHeads(t, heads, dh));
      const scale = (scaleWeights ? 1 / Math.sqrt(dh) : 1) / (byLayer ? l + 1 : 1);
      const a = g.mergeHeads(g.attend(q, k, v, bias, scale), heads, dh);
      return g.op('Add', [xin, lin('attn.c_proj', a)]);
    });
    const I = w.get(`${p}mlp.c_fc.weight`).shape[1];
    let f = g.scope(`h.${l}/mlp`, () => lin('mlp.c_fc', ln('ln_2', h)));
    f = g.site(`blocks.${l}.mlp.hook_pre`, f, 'mlp_pre', l, I);
    f = g.site(`blocks.${l}.mlp.hook_post`, g.scope(`h.${l}/mlp`, () => activation(g, f, act)), 'mlp_post', l, I);
    x = g.scope(`h.${l}/mlp`, () => g.op('Add', [h, lin('mlp.c_proj', f)]));
    if (l === L - 1) x = g.scope('ln_f', () => g.layerNorm(x, 'ln_f', w.get('ln_f.weight'), w.opt('ln_f.bias'), eps));
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, H);
  }
}

/** Random weights as GPT-2's `_init_weights`: N(0, initializer_range), the residual projections `c_proj` scaled by 1/√(2·n_layer). */
export const gpt2Family: Family = {
  types: ['gpt2'],
  build: gpt2,
  initScale: (c, name) => (/(^|\.)c_proj\.weight$/.test(name) ? 1 / Math.sqrt(2 * c.num(['n_layer', 'num_hidden_layers'])) : 1),
};
