/**
 * Language-modelling heads from the checkpoint, as extra outputs of a built graph. The head reads the final hidden
 * state (the last `blocks.{l}.hook_resid_post` site, which for decoders already includes the final norm), so an
 * intervention on any site reaches the model's own predictions.
 *
 * Full [batch, sequence, vocab] logits are never an output: the head takes
 * - `lm.positions` int64 [batch, P]: the sequence positions to predict at (P per row, padded with any valid position),
 * - `lm.candidates` int64 [batch, P, K]: candidate token ids per position,
 * and outputs `lm.logprobs` float [batch, P, K]: `log_softmax(logits)` gathered at the candidates. K = 1 with the
 * target gives the LM loss, K = 2 with the two forms of a verb gives number agreement.
 *
 * Heads: BERT `cls.predictions.*` (transform dense → hidden_act → LayerNorm → decoder tied to the word embeddings +
 * `cls.predictions.bias`), RoBERTa-likes `lm_head.*` (dense → gelu → layer_norm → decoder + bias), DistilBERT
 * `vocab_transform` / `vocab_layer_norm` / `vocab_projector`, ELECTRA generators `generator_predictions` /
 * `generator_lm_head`, XLNet `lm_loss` (tied embeddings + bias), decoders `lm_head` (GPT-NeoX `embed_out`) or the tied
 * input embeddings; Gemma 2's `final_logit_softcapping` is applied to the logits.
 */
import { InputError } from '../util/errors.js';
import type { Tensor, WeightSource } from './checkpoint.js';
import type { Config } from './family.js';
import { DataType } from './onnx-writer.js';
import type { GraphBuilder, Site } from './graph.js';

/** Names of the head's inputs and output. */
export const LM_POSITIONS = 'lm.positions';
export const LM_CANDIDATES = 'lm.candidates';
export const LM_LOGPROBS = 'lm.logprobs';

/** What {@link addLmHead} added. */
export interface LmHead {
  positions: string;
  candidates: string;
  output: string;
  /** Vocabulary size of the logits. */
  vocab: number;
  /** Which head was built (for messages and provenance). */
  kind: 'bert' | 'roberta' | 'distilbert' | 'electra-generator' | 'xlnet' | 'decoder';
  /** Whether the model predicts the next token (decoders) rather than a masked one. */
  causal: boolean;
}

/** model_types scored as masked language models (the verb is masked); every other family predicts the next token. */
export const MASKED_TYPES: ReadonlySet<string> = new Set(['bert', 'roberta', 'xlm-roberta', 'camembert', 'electra', 'distilbert', 'xlnet']);

const TIED_SUFFIXES = ['embeddings.word_embeddings.weight', 'wte.weight', 'embed_tokens.weight', 'embed_in.weight', 'word_embedding.weight'];

/** The input embedding table a tied head reuses ([vocab, hidden]). */
function tiedEmbeddings(source: WeightSource, where: string): { name: string; t: Tensor } {
  const names = source.names();
  for (const suf of TIED_SUFFIXES) {
    const name = names.find((n) => n === suf || n.endsWith(`.${suf}`));
    if (name) return { name, t: source.get(name) };
  }
  throw new InputError('the checkpoint has no input embeddings for a tied LM head', { location: { file: where }, expected: `a tensor ending in ${TIED_SUFFIXES.join(' / ')}` });
}

function first(source: WeightSource, names: string[]): string | undefined {
  return names.find((n) => source.has(n));
}

/**
 * Add the checkpoint's LM head to `g`, reading the last residual-stream site of `sites`. Throws an InputError naming
 * the checkpoint when it has no LM head (e.g. an ELECTRA discriminator or a bare `BertModel` without `cls.*`).
 */
export function addLmHead(g: GraphBuilder, sites: readonly Site[], config: Config, source: WeightSource, where: string): LmHead {
  const last = [...sites].reverse().find((s) => s.kind === 'resid_post');
  if (!last) throw new InputError('the built graph has no hook_resid_post site for an LM head', { location: { file: where } });
  const type = config.modelType;
  const H = last.width;
  const positions = g.input(LM_POSITIONS, DataType.INT64, ['batch', 'positions']);
  const candidates = g.input(LM_CANDIDATES, DataType.INT64, ['batch', 'positions', 'candidates']);
  return g.scope('lm_head', () => {
    // hidden states at the asked positions: [B, P, H]
    const shape = g.op('Concat', [g.op('Shape', [positions]), g.i64([H])], { axis: { i: 0 } });
    const idx = g.op('Expand', [g.op('Unsqueeze', [positions, g.i64([2])]), shape]);
    let h = g.op('GatherElements', [last.tensor, idx], { axis: { i: 1 } });
    const get = (n: string) => source.get(n);
    const lin = (x: string, n: string) => g.linear(x, n, get(`${n}.weight`), source.has(`${n}.bias`) ? get(`${n}.bias`) : undefined);
    const eps = config.num('layer_norm_eps', 1e-12);
    let kind: LmHead['kind'];
    let decoderW: { name: string; t: Tensor };
    let bias: Tensor | undefined;
    if (source.has('cls.predictions.transform.dense.weight')) {
      kind = 'bert';
      h = lin(h, 'cls.predictions.transform.dense');
      h = g.activation(h, config.str('hidden_act', 'gelu'));
      h = g.layerNorm(h, 'cls.predictions.transform.LayerNorm', get('cls.predictions.transform.LayerNorm.weight'), get('cls.predictions.transform.LayerNorm.bias'), eps);
      const dw = 'cls.predictions.decoder.weight';
      decoderW = source.has(dw) ? { name: dw, t: get(dw) } : tiedEmbeddings(source, where);
      const b = first(source, ['cls.predictions.bias', 'cls.predictions.decoder.bias']);
      bias = b ? get(b) : undefined;
    } else if (source.has('lm_head.dense.weight')) {
      kind = 'roberta';
      h = lin(h, 'lm_head.dense');
      h = g.activation(h, 'gelu');
      h = g.layerNorm(h, 'lm_head.layer_norm', get('lm_head.layer_norm.weight'), get('lm_head.layer_norm.bias'), eps);
      decoderW = source.has('lm_head.decoder.weight') ? { name: 'lm_head.decoder.weight', t: get('lm_head.decoder.weight') } : tiedEmbeddings(source, where);
      const b = first(source, ['lm_head.bias', 'lm_head.decoder.bias']);
      bias = b ? get(b) : undefined;
    } else if (source.has('vocab_transform.weight')) {
      kind = 'distilbert';
      h = lin(h, 'vocab_transform');
      h = g.activation(h, config.str('activation', 'gelu'));
      h = g.layerNorm(h, 'vocab_layer_norm', get('vocab_layer_norm.weight'), get('vocab_layer_norm.bias'), 1e-12);
      decoderW = source.has('vocab_projector.weight') ? { name: 'vocab_projector.weight', t: get('vocab_projector.weight') } : tiedEmbeddings(source, where);
      bias = source.has('vocab_projector.bias') ? get('vocab_projector.bias') : undefined;
    } else if (source.has('generator_predictions.dense.weight')) {
      kind = 'electra-generator';
      h = lin(h, 'generator_predictions.dense');
      h = g.activation(h, 'gelu');
      h = g.layerNorm(h, 'generator_predictions.LayerNorm', get('generator_predictions.LayerNorm.weight'), get('generator_predictions.LayerNorm.bias'), eps);
      decoderW = source.has('generator_lm_head.weight') ? { name: 'generator_lm_head.weight', t: get('generator_lm_head.weight') } : tiedEmbeddings(source, where);
      bias = source.has('generator_lm_head.bias') ? get('generator_lm_head.bias') : undefined;
    } else if (type === 'xlnet') {
      if (!source.has('lm_loss.bias')) throw new InputError('the XLNet checkpoint has no lm_loss head', { location: { file: where }, expected: 'an XLNetLMHeadModel checkpoint (lm_loss.bias)' });
      kind = 'xlnet';
      decoderW = source.has('lm_loss.weight') ? { name: 'lm_loss.weight', t: get('lm_loss.weight') } : tiedEmbeddings(source, where);
      bias = get('lm_loss.bias');
    } else if (!MASKED_TYPES.has(type)) {
      kind = 'decoder';
      const n = first(source, ['lm_head.weight', 'embed_out.weight']);
      decoderW = n ? { name: n, t: get(n) } : tiedEmbeddings(source, where);
      bias = source.has('lm_head.bias') ? get('lm_head.bias') : undefined;
    } else {
      throw new InputError(`the ${type} checkpoint has no language-modelling head`, {
        location: { file: where },
        expected: 'a masked-LM checkpoint (cls.predictions.*, lm_head.*, vocab_projector, generator_lm_head) or a causal LM',
      });
    }
    const V = decoderW.t.shape[0];
    if (decoderW.t.shape.length !== 2) {
      throw new InputError(`LM head weight ${decoderW.name} has shape [${decoderW.t.shape}]`, { location: { file: where }, expected: '[vocab, hidden]' });
    }
    let logits = g.linear(h, `lm_head.decoder(${decoderW.name})`, decoderW.t, bias);
    const cap = config.values.final_logit_softcapping;
    if (typeof cap === 'number' && cap > 0) {
      logits = g.op('Mul', [g.op('Tanh', [g.op('Div', [logits, g.f32([cap], [])])]), g.f32([cap], [])]);
    }
    const logp = g.op('LogSoftmax', [logits], { axis: { i: -1 } });
    const picked = g.op('GatherElements', [logp, candidates], { axis: { i: 2 } });
    g.nodes.push({ op: 'Identity', inputs: [picked], outputs: [LM_LOGPROBS], name: '/lm_head/output' });
    g.extraOutputs.push({ name: LM_LOGPROBS, type: DataType.FLOAT, shape: ['batch', 'positions', 'candidates'] });
    return { positions, candidates, output: LM_LOGPROBS, vocab: V, kind, causal: !MASKED_TYPES.has(type) };
  });
}
