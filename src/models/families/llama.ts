/**
 * Llama-like pre-norm decoders with rotary positions, grouped-query attention and a gated MLP: `llama` (incl. Llama 3
 * `rope_type: llama3`), `mistral`, `qwen2` (q/k/v biases), `qwen3` (per-head q/k RMSNorm), `gemma` and `gemma2`.
 *
 * Per block l, with x the residual stream entering it, `norm` an RMSNorm (`x / √(mean(x²) + eps) · w`; Gemma:
 * `· (1 + w)`), and attention causal + padding-masked (plus a sliding window on the layers `layer_types` marks
 * `sliding_attention`, or every layer of `mistral` when `sliding_window` is set):
 * - q, k, v = `q_proj`, `k_proj`, `v_proj` of `input_layernorm(x)` (biases where the checkpoint has them);
 *   qwen3: q and k go through `q_norm` / `k_norm` per head first; then rotary on the first `head_dim ×
 *   partial_rotary_factor` channels at `position_ids`; k and v repeated to the query heads (grouped-query);
 *   scores scaled by `head_dim^-½` (gemma2: `query_pre_attn_scalar^-½`, then soft-capped:
 *   `tanh(s / attn_logit_softcapping) · attn_logit_softcapping`);
 * - `h = x + o_proj(attn)` (gemma2: `x + post_attention_layernorm(o_proj(attn))`);
 * - `u = post_attention_layernorm(h)` (gemma2: `pre_feedforward_layernorm(h)`);
 * - `blocks.{l}.mlp.hook_pre` = `gate_proj(u)` (the gate's pre-activation);
 * - `blocks.{l}.mlp.hook_pre_linear` = `up_proj(u)`;
 * - `blocks.{l}.mlp.hook_post` = `act(hook_pre) · hook_pre_linear` (`hidden_act`, silu; Gemma: `hidden_act` with the
 *   legacy "gelu" read as the tanh approximation, as transformers 5 does; Gemma 2: `hidden_activation`), the input of
 *   `down_proj`;
 * - `blocks.{l}.hook_resid_post` = `h + down_proj(hook_post)` (gemma2: `h + post_feedforward_layernorm(...)`), except
 *   for the **last block, whose site is the final `norm` of it**, because transformers' last `hidden_states` entry
 *   (= `last_hidden_state`) has the final norm applied.
 *
 * `embeddings` = `embed_tokens(input_ids)` (`hidden_states[0]`); Gemma and Gemma 2 multiply it by `√hidden_size`,
 * which transformers casts to the weights' dtype: the graph computes in float32, so it is `fround(√hidden_size)`, as
 * transformers gives for a model loaded in float32. Gemma 2's final logit soft-capping acts on logits only, so no site
 * sees it. The graph takes `input_ids`, `attention_mask` and `position_ids` (the extractor feeds
 * `cumsum(attention_mask) - 1`).
 */
import { DataType } from '../onnx-writer.js';
import { Weights, type Config, type Family, type FamilyContext } from '../family.js';
import { activation, rmsNorm } from './fusable.js';
import { ropeFor } from './rope.js';

const GEMMA = new Set(['gemma', 'gemma2']);

/** The sliding window of layer `l`, if it has one. */
function windowOf(c: Config, l: number): number | undefined {
  const sw = c.values.sliding_window;
  if (sw === null || sw === undefined) return undefined;
  const window = c.num('sliding_window');
  const types = c.values.layer_types;
  if (Array.isArray(types)) {
    const t = types[l];
    if (t === 'sliding_attention') return window;
    if (t === 'full_attention') return undefined;
    c.unsupported(`layer_types[${l}]`, t, '"full_attention" or "sliding_attention"');
  }
  if (c.modelType === 'mistral') return window;
  if (c.modelType === 'qwen2' || c.modelType === 'qwen3') return c.bool('use_sliding_window', false) && l >= c.num('max_window_layers', 0) ? window : undefined;
  if (c.modelType === 'gemma2') return l % 2 === 0 ? window : undefined;
  return undefined;
}

function llamaLike(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const type = c.modelType;
  const gemma = GEMMA.has(type);
  const gemma2 = type === 'gemma2';
  const w = new Weights(ctx.source, ['model.', 'model.language_model.'], 'embed_tokens.weight', ctx.where);
  const H = c.num('hidden_size');
  const heads = c.num('num_attention_heads');
  const kvHeads = c.num('num_key_value_heads', heads);
  const L = c.num('num_hidden_layers');
  const eps = c.num('rms_norm_eps', 1e-6);
  const dh = c.values.head_dim !== undefined && c.values.head_dim !== null ? c.num('head_dim') : H / heads;
  if (!Number.isInteger(dh)) c.unsupported('num_attention_heads', heads, `a divisor of hidden_size ${H} (or an explicit head_dim)`);
  if (heads % kvHeads !== 0) c.unsupported('num_key_value_heads', kvHeads, `a divisor of num_attention_heads ${heads}`);
  // transformers 5: Gemma reads hidden_act (its legacy "gelu" meant the tanh approximation), Gemma 2 hidden_activation
  const gemmaAct = type === 'gemma' ? c.str('hidden_act', 'gelu_pytorch_tanh') : c.str('hidden_activation', 'gelu_pytorch_tanh');
  const act = gemma ? (gemmaAct === 'gelu' ? 'gelu_pytorch_tanh' : gemmaAct) : c.str('hidden_act', 'silu');
  if (c.values.use_bidirectional_attention === true) c.unsupported('use_bidirectional_attention', true, 'null or false (causal attention)');
  const offset = gemma ? 1 : 0;
  const scale = gemma2 ? Math.pow(c.num('query_pre_attn_scalar', dh), -0.5) : 1 / Math.sqrt(dh);
  const softcap = gemma2 && c.values.attn_logit_softcapping !== null ? c.num('attn_logit_softcapping', 0) || undefined : undefined;
  const rope = ropeFor(c, dh);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const pos = g.input('position_ids', DataType.INT64, ['batch', 'sequence']);

  const norm = (x: string, name: string) => rmsNorm(g, x, name, w.get(`${name}.weight`), eps, offset);
  let x = g.scope('embed_tokens', () => {
    const e = g.embed(ids, 'embed_tokens.weight', w.get('embed_tokens.weight'));
    return gemma ? g.op('Mul', [e, g.f32([Math.fround(Math.sqrt(H))], [])]) : e;
  });
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const { cos, sin } = g.rotaryTables(rope.invFreq, pos, rope.attentionScaling);
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}.`;
    const lin = (n: string, y: string) => g.linear(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.opt(`${p}${n}.bias`));
    const bias = g.decoderBias('attention_mask', 'input_ids', windowOf(c, l));
    const xin = x;
    const h = g.scope(`layers.${l}/self_attn`, () => {
      const u = norm(xin, `${p}input_layernorm`);
      let q = g.splitHeads(lin('self_attn.q_proj', u), heads, dh);
      let k = g.splitHeads(lin('self_attn.k_proj', u), kvHeads, dh);
      const v = g.splitHeads(lin('self_attn.v_proj', u), kvHeads, dh);
      if (w.has(`${p}self_attn.q_norm.weight`)) q = norm(q, `${p}self_attn.q_norm`);
      if (w.has(`${p}self_attn.k_norm.weight`)) k = norm(k, `${p}self_attn.k_norm`);
      q = g.applyRotary(q, cos, sin, dh, rope.rotDim);
      k = g.applyRotary(k, cos, sin, dh, rope.rotDim);
      const rep = heads / kvHeads;
      const a = g.attend(q, g.repeatKv(k, kvHeads, rep, dh), g.repeatKv(v, kvHeads, rep, dh), bias, scale, softcap);
      let o = lin('self_attn.o_proj', g.mergeHeads(a, heads, dh));
      if (gemma2) o = norm(o, `${p}post_attention_layernorm`);
      return g.op('Add', [xin, o]);
    });
    const u = g.scope(`layers.${l}/mlp`, () => norm(h, gemma2 ? `${p}pre_feedforward_layernorm` : `${p}post_attention_layernorm`));
    const I = w.get(`${p}mlp.gate_proj.weight`).shape[0];
    const gate = g.site(`blocks.${l}.mlp.hook_pre`, g.scope(`layers.${l}/mlp`, () => lin('mlp.gate_proj', u)), 'mlp_pre', l, I);
    const up = g.site(`blocks.${l}.mlp.hook_pre_linear`, g.scope(`layers.${l}/mlp`, () => lin('mlp.up_proj', u)), 'mlp_pre_linear', l, I);
    const f = g.site(`blocks.${l}.mlp.hook_post`, g.scope(`layers.${l}/mlp`, () => g.op('Mul', [activation(g, gate, act), up])), 'mlp_post', l, I);
    x = g.scope(`layers.${l}/mlp`, () => {
      let d = lin('mlp.down_proj', f);
      if (gemma2) d = norm(d, `${p}post_feedforward_layernorm`);
      return g.op('Add', [h, d]);
    });
    if (l === L - 1) x = g.scope('norm', () => norm(x, 'norm'));
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, H);
  }
}

export const llamaFamily: Family = { types: ['llama', 'mistral', 'qwen2', 'qwen3'], build: llamaLike };
/** Gemma's RMSNorm weights are offsets from 1, so its random-weight control draws them as 0. */
export const gemmaFamily: Family = { types: ['gemma', 'gemma2'], build: llamaLike, zeroNormInit: true };
