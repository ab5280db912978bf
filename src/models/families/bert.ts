/**
 * BERT-like encoders: `bert`, `roberta`, `xlm-roberta`, `camembert`, `electra` and `distilbert`.
 *
 * Post-norm blocks: `h = LN(x + Attn(x))`, `y = LN(h + W2·act(W1·h))`. Sites: `embeddings` (the embeddings after
 * their LayerNorm; ELECTRA: after `embeddings_project`, i.e. what the encoder receives, as in `hidden_states[0]`),
 * `blocks.{l}.mlp.hook_pre` (`W1·h + b1`), `blocks.{l}.mlp.hook_post` (`act(W1·h + b1)`, the input of the output
 * dense layer) and `blocks.{l}.hook_resid_post` (the block's output LayerNorm).
 *
 * Positions: BERT/ELECTRA/DistilBERT use `0..T-1` (pad on the right); RoBERTa-likes count non-pad tokens from
 * `pad_token_id + 1`, as `create_position_ids_from_input_ids` does.
 */
import { DataType } from '../onnx-writer.js';
import { Weights, type Family, type FamilyContext } from '../family.js';

const ROBERTA_LIKE = new Set(['roberta', 'xlm-roberta', 'camembert']);

function bertLike(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const type = c.modelType;
  const prefixes = type === 'electra' ? ['electra.', 'discriminator.', 'generator.'] : type === 'bert' ? ['bert.'] : [`${type.replace('-', '_')}.`, 'roberta.', 'bert.'];
  const w = new Weights(ctx.source, prefixes, 'embeddings.word_embeddings.weight', ctx.where);
  const H = c.num('hidden_size');
  const heads = c.num('num_attention_heads');
  const L = c.num('num_hidden_layers');
  const eps = c.num('layer_norm_eps', 1e-12);
  const act = c.str('hidden_act', 'gelu');
  const pet = c.str('position_embedding_type', 'absolute');
  if (pet !== 'absolute') c.unsupported('position_embedding_type', pet, '"absolute"');
  const dh = H / heads;
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);

  // positions
  let pos: string;
  if (ROBERTA_LIKE.has(type)) {
    const pad = c.num('pad_token_id', 1);
    const m = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, g.i64([pad], [])])])], { to: { i: DataType.INT64 } });
    pos = g.op('Add', [g.op('Mul', [g.op('CumSum', [m, g.i64([1], [])]), m]), g.i64([pad], [])]);
  } else {
    const T = g.op('Squeeze', [g.seqLen(ids), g.i64([0])]);
    pos = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), T, g.i64([1], [])]), g.i64([0])]);
  }
  let x = g.scope('embeddings', () => {
    let e = g.embed(ids, 'embeddings.word_embeddings.weight', w.get('embeddings.word_embeddings.weight'));
    e = g.op('Add', [e, g.embed(pos, 'embeddings.position_embeddings.weight', w.get('embeddings.position_embeddings.weight'))]);
    const tt = w.opt('embeddings.token_type_embeddings.weight');
    if (tt) {
      if (tt.shape[0] > 1) {
        const tti = g.input('token_type_ids', DataType.INT64, ['batch', 'sequence']);
        e = g.op('Add', [e, g.embed(tti, 'embeddings.token_type_embeddings.weight', tt)]);
      } else {
        e = g.op('Add', [e, g.weight('embeddings.token_type_embeddings.weight', { data: tt.data.subarray(0, tt.shape[1]), shape: [tt.shape[1]] })]);
      }
    }
    e = g.layerNorm(e, 'embeddings.LayerNorm', w.get('embeddings.LayerNorm.weight'), w.get('embeddings.LayerNorm.bias'), eps);
    if (type === 'electra' && w.has('embeddings_project.weight')) {
      e = g.linear(e, 'embeddings_project', w.get('embeddings_project.weight'), w.get('embeddings_project.bias'));
    }
    return e;
  });
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const bias = g.paddingBias();
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    x = g.scope(`encoder/layer.${l}`, () => {
      const q = g.splitHeads(g.linear(x, `${p}attention.self.query`, w.get(`${p}attention.self.query.weight`), w.get(`${p}attention.self.query.bias`)), heads, dh);
      const k = g.splitHeads(g.linear(x, `${p}attention.self.key`, w.get(`${p}attention.self.key.weight`), w.get(`${p}attention.self.key.bias`)), heads, dh);
      const v = g.splitHeads(g.linear(x, `${p}attention.self.value`, w.get(`${p}attention.self.value.weight`), w.get(`${p}attention.self.value.bias`)), heads, dh);
      const a = g.mergeHeads(g.attend(q, k, v, bias, 1 / Math.sqrt(dh)), heads, dh);
      const o = g.linear(a, `${p}attention.output.dense`, w.get(`${p}attention.output.dense.weight`), w.get(`${p}attention.output.dense.bias`));
      const h = g.layerNorm(g.op('Add', [o, x]), `${p}attention.output.LayerNorm`, w.get(`${p}attention.output.LayerNorm.weight`), w.get(`${p}attention.output.LayerNorm.bias`), eps);
      const I = w.get(`${p}intermediate.dense.weight`).shape[0];
      let f = g.linear(h, `${p}intermediate.dense`, w.get(`${p}intermediate.dense.weight`), w.get(`${p}intermediate.dense.bias`));
      f = g.site(`blocks.${l}.mlp.hook_pre`, f, 'mlp_pre', l, I);
      f = g.site(`blocks.${l}.mlp.hook_post`, g.activation(f, act), 'mlp_post', l, I);
      const out = g.linear(f, `${p}output.dense`, w.get(`${p}output.dense.weight`), w.get(`${p}output.dense.bias`));
      return g.layerNorm(g.op('Add', [out, h]), `${p}output.LayerNorm`, w.get(`${p}output.LayerNorm.weight`), w.get(`${p}output.LayerNorm.bias`), eps);
    });
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, H);
  }
}

function distilbert(ctx: FamilyContext): void {
  const { config: c, g } = ctx;
  const w = new Weights(ctx.source, ['distilbert.'], 'embeddings.word_embeddings.weight', ctx.where);
  const H = c.num(['dim', 'hidden_size']);
  const heads = c.num(['n_heads', 'num_attention_heads']);
  const L = c.num(['n_layers', 'num_hidden_layers']);
  const act = c.str('activation', 'gelu');
  if (c.bool('sinusoidal_pos_embds', false) && !w.has('embeddings.position_embeddings.weight')) c.unsupported('sinusoidal_pos_embds', true, 'stored position embeddings');
  const eps = 1e-12;
  const dh = H / heads;
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const T = g.op('Squeeze', [g.seqLen(ids), g.i64([0])]);
  const pos = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), T, g.i64([1], [])]), g.i64([0])]);
  let x = g.scope('embeddings', () => {
    const e = g.op('Add', [
      g.embed(ids, 'embeddings.word_embeddings.weight', w.get('embeddings.word_embeddings.weight')),
      g.embed(pos, 'embeddings.position_embeddings.weight', w.get('embeddings.position_embeddings.weight')),
    ]);
    return g.layerNorm(e, 'embeddings.LayerNorm', w.get('embeddings.LayerNorm.weight'), w.get('embeddings.LayerNorm.bias'), eps);
  });
  x = g.site('embeddings', x, 'embeddings', 0, H);
  const bias = g.paddingBias();
  for (let l = 0; l < L; l++) {
    const p = `transformer.layer.${l}.`;
    x = g.scope(`transformer/layer.${l}`, () => {
      const lin = (n: string, y: string) => g.linear(y, `${p}${n}`, w.get(`${p}${n}.weight`), w.get(`${p}${n}.bias`));
      const q = g.splitHeads(lin('attention.q_lin', x), heads, dh);
      const k = g.splitHeads(lin('attention.k_lin', x), heads, dh);
      const v = g.splitHeads(lin('attention.v_lin', x), heads, dh);
      const a = lin('attention.out_lin', g.mergeHeads(g.attend(q, k, v, bias, 1 / Math.sqrt(dh)), heads, dh));
      const h = g.layerNorm(g.op('Add', [a, x]), `${p}sa_layer_norm`, w.get(`${p}sa_layer_norm.weight`), w.get(`${p}sa_layer_norm.bias`), eps);
      const I = w.get(`${p}ffn.lin1.weight`).shape[0];
      let f = g.site(`blocks.${l}.mlp.hook_pre`, lin('ffn.lin1', h), 'mlp_pre', l, I);
      f = g.site(`blocks.${l}.mlp.hook_post`, g.activation(f, act), 'mlp_post', l, I);
      return g.layerNorm(g.op('Add', [lin('ffn.lin2', f), h]), `${p}output_layer_norm`, w.get(`${p}output_layer_norm.weight`), w.get(`${p}output_layer_norm.bias`), eps);
    });
    x = g.site(`blocks.${l}.hook_resid_post`, x, 'resid_post', l + 1, H);
  }
}

export const bertFamily: Family = { types: ['bert', 'roberta', 'xlm-roberta', 'camembert', 'electra'], build: bertLike };
export const distilbertFamily: Family = { types: ['distilbert'], build: distilbert };
