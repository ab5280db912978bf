/**
 * OPT (`opt`): a decoder with learned absolute positions (offset 2), pre-norm (`do_layer_norm_before`, 125m and up)
 * or post-norm (350m), relu MLP, and optional `project_in` / `project_out` when `word_embed_proj_dim` differs from
 * `hidden_size`.
 *
 * Positions are computed from the attention mask as transformers does: `cumsum(attention_mask) · attention_mask - 1`,
 * looked up at index `+ 2` in `embed_positions` (so left and right padding give the words the same positions); the
 * graph takes `input_ids` and `attention_mask` only.
 *
 * Per block l, with x the residual stream entering it (LN = `self_attn_layer_norm` / `final_layer_norm` of the block,
 * applied before the sublayer when `do_layer_norm_before`, after the residual sum otherwise):
 * - attention: `q_proj(·) · d_head^-½`, `k_proj`, `v_proj`, causal + padding-masked, then `out_proj`; `h = x + attn`;
 * - `blocks.{l}.mlp.hook_pre` = `fc1(LN(h))` (pre-norm) or `fc1(h)` (post-norm, h already normed);
 * - `blocks.{l}.mlp.hook_post` = `act(hook_pre)` (`activation_function`, relu), the input of `fc2`;
 * - `blocks.{l}.hook_resid_post` = `h + fc2(hook_post)` (post-norm: its LN), except for the **last block, whose site
 *   is transformers' last hidden state: the decoder's `final_layer_norm` of it (pre-norm) and then `project_out`
 *   where present** (its width is then `word_embed_proj_dim`).
 *
 * `embeddings` = `project_in(embed_tokens(input_ids)) + embed_positions(positions + 2)` (`hidden_states[0]`).
 */
import { DataType } from '../onnx-writer.js';
import type { Tensor } from '../checkpoint.js';
import { Weights, type Family, type FamilyContext } from '../family.js';

function opt(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const w = new Weights(ctx.source, ['model.decoder.', 'decoder.'], 'embed_tokens.weight', ctx.where);
  const H = c.num('hidden_size');
  const heads = c.num('num_attention_heads');
  const L = c.num('num_hidden_layers');
  const act = c.str('activation_function', 'relu');
  const before = c.bool('do_layer_norm_before', true);
  const eps = 1e-5; // nn.LayerNorm's default, which OPT uses
  const dh = H / heads;
  if (!Number.isInteger(dh)) c.unsupported('num_attention_heads', heads, `a divisor of hidden_size ${H}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);

  const ones = (n: number): Tensor => ({ data: new Float32Array(n).fill(1), shape: [n] });
  const ln = (name: string, y: string) => {
    const weight = w.opt(`${name}.weight`) ?? ones(H); // layer_norm_elementwise_affine: false
    return g.layerNorm(y, name, weight, w.opt(`${name}.bias`), eps);
  };
  let x = g.scope('embeddings', () => {
    let e = g.embed(ids, 'embed_tokens.weight', w.get('embed_tokens.weight'));
    if (w.has('project_in.weight')) e = g.linear(e, 'project_in', w.get('project_in.weight'));
    const pos = g.op('Add', [g.op('Mul', [g.op('CumSum', [mask, g.i64([1], [])]), mask]), g.i64([1], [])]); // (cumsum·mask - 1) + 2
    return g.op('Add', [e, g.embed(pos, 'embed_positions.weight', w.get('embed_positions.weight'))]);
  });
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const bias = g.decoderBias();
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}.`;
    const lin = (n: string, y: string) => g.linear(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`));
    const xin = x;
    const h = g.scope(`layers.${l}/self_attn`, () => {
      const u = before ? ln(`${p}self_attn_layer_norm`, xin) : xin;
      const q = g.splitHeads(lin('self_attn.q_proj', u), heads, dh);
      const k = g.splitHeads(lin('self_attn.k_proj', u), heads, dh);
      const v = g.splitHeads(lin('self_attn.v_proj', u), heads, dh);
      const s = g.op('Add', [xin, lin('self_attn.out_proj', g.mergeHeads(g.attend(q, k, v, bias, 1 / Math.sqrt(dh)), heads, dh))]);
      return before ? s : ln(`${p}self_attn_layer_norm`, s);
    });
    const I = w.get(`${p}fc1.weight`).shape[0];
    let f = g.scope(`layers.${l}/mlp`, () => lin('fc1', before ? ln(`${p}final_layer_norm`, h) : h));
    f = g.site(`blocks.${l}.mlp.hook_pre`, f, 'mlp_pre', l, I);
    f = g.site(`blocks.${l}.mlp.hook_post`, g.scope(`layers.${l}/mlp`, () => g.activation(f, act)), 'mlp_post', l, I);
    x = g.scope(`layers.${l}/mlp`, () => {
      const s = g.op('Add', [h, lin('fc2', f)]);
      return before ? s : ln(`${p}final_layer_norm`, s);
    });
    let width = H;
    if (l === L - 1) {
      x = g.scope('final', () => {
        let y = x;
        if (before && !c.bool('_remove_final_layer_norm', false)) y = ln('final_layer_norm', y);
        if (w.has('project_out.weight')) {
          const po = w.get('project_out.weight');
          width = po.shape[0];
          y = g.linear(y, 'project_out', po);
        }
        return y;
      });
    }
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, width);
  }
}

/** OPT draws its random weights with `init_std`, not `initializer_range`. */
export const optFamily: Family = { types: ['opt'], build: opt, initStd: (c) => c.num(['init_std', 'initializer_range'], 0.02) };
