/**
 * Word → subword alignment, exactly as transformers aligns pre-split words (`tokenizer(words,
 * is_split_into_words=True).word_ids()`): each word is normalised, pre-tokenised and encoded **on its own**, without
 * special tokens, so the pre-tokenizer decides its first piece (`add_prefix_space` gives GPT-2/RoBERTa words their
 * `Ġ`, Metaspace gives every SentencePiece word its `▁`, the Llama 3 layout adds nothing, WordPiece continues with
 * `##`); the pieces are concatenated and the post-processor's special tokens ([CLS] … [SEP], <s> … </s>, … <sep> <cls>,
 * <|begin_of_text|> …) are put around them. Special tokens belong to no word.
 *
 * NeuroX's own alignment (BPE/Unigram words tokenised in context next to a filler word, `"a w a"`, and the filler pieces
 * stripped) stays available as `mode: 'context'`.
 *
 * The model input for a sentence is `prefix + pieces(w1) + ... + pieces(wn) + suffix`, with token types `prefix.typeIds`,
 * `sequenceTypeId` for every piece, `suffix.typeIds` (XLNet: 0 for the words and `<sep>`, 2 for `<cls>`).
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { InputError } from '../util/errors.js';
import type { ResolvedModel } from './model.js';

/** Pieces of one word. */
export interface WordPieces {
  ids: number[];
  tokens: string[];
}

/** Special tokens around the words, with their token type ids. */
export interface SpecialPieces extends WordPieces {
  typeIds: number[];
}

/** A tokenizer that splits pre-tokenized words into model pieces. */
export interface WordTokenizer {
  /** 'word' (each word alone, as transformers' is_split_into_words: the default) or 'context' (NeuroX's filler-wrapped BPE/Unigram words). */
  readonly mode: 'word' | 'context';
  /** The tokenizer model type from tokenizer.json (WordPiece, BPE, Unigram, ...). */
  readonly modelType: string;
  /** Special tokens put before / after a single sequence by the post-processor. */
  readonly prefix: SpecialPieces;
  readonly suffix: SpecialPieces;
  /** Token type id of the word pieces (the template's type for sequence A; 0 for every tokenizer seen). */
  readonly sequenceTypeId: number;
  /** Id used to pad batches (the tokenizer's pad token, else 0). RoBERTa-likes derive positions from it. */
  readonly padId: number;
  /** Where padding goes in a batch: the tokenizer's `padding_side` (XLNet: left), else right. */
  readonly paddingSide: 'left' | 'right';
  /** Pieces of every word of a sentence, in order (a word may get zero pieces). */
  sentencePieces(words: string[]): WordPieces[];
}

/** Options for {@link loadWordTokenizer}. */
export interface WordTokenizerOptions {
  /** Force the alignment mode (default: 'word', each word alone as transformers does; 'context' = NeuroX's filler alignment for BPE/Unigram). */
  mode?: 'word' | 'context';
  /** Filler word for context mode (NeuroX uses "a"). */
  filler?: string;
}

/** Load tokenizer.json (+ tokenizer_config.json) of a resolved model. */
export function loadWordTokenizer(model: Pick<ResolvedModel, 'tokenizerPath' | 'tokenizerConfig'>, opts: WordTokenizerOptions = {}): WordTokenizer {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(model.tokenizerPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`cannot read tokenizer ${model.tokenizerPath}: ${(err as Error).message}`, {
      location: { file: model.tokenizerPath },
      expected: 'a Hugging Face tokenizer.json',
    });
  }
  const modelType = String((json.model as { type?: string } | undefined)?.type ?? '');
  if (!modelType) {
    throw new InputError(`tokenizer ${model.tokenizerPath} has no model section`, { location: { file: model.tokenizerPath }, expected: 'a "model": {"type": ...} entry' });
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, model.tokenizerConfig ?? {});
  } catch (err) {
    throw new InputError(`cannot build tokenizer from ${model.tokenizerPath}: ${(err as Error).message}`, { location: { file: model.tokenizerPath } });
  }
  return new HFWordTokenizer(tok, modelType, opts, model.tokenizerConfig ?? {});
}

class HFWordTokenizer implements WordTokenizer {
  readonly mode: 'word' | 'context';
  readonly prefix: SpecialPieces;
  readonly suffix: SpecialPieces;
  readonly sequenceTypeId: number;
  readonly padId: number;
  readonly paddingSide: 'left' | 'right';
  private readonly filler: string;
  private readonly nPre: number;
  private readonly nPost: number;
  private readonly cache = new Map<string, WordPieces>();

  constructor(
    private readonly tok: Tokenizer,
    readonly modelType: string,
    opts: WordTokenizerOptions,
    config: Record<string, unknown>,
  ) {
    this.mode = opts.mode ?? 'word';
    this.filler = opts.filler ?? 'a';
    // special tokens: encode the filler with and without them and see what surrounds it
    const plain = tok.encode(this.filler, { add_special_tokens: false });
    const full = tok.encode(this.filler, { add_special_tokens: true, return_token_type_ids: true });
    const at = indexOfSeq(full.ids, plain.ids);
    if (at < 0) throw new InputError(`tokenizer post-processor changes the text pieces; cannot locate special tokens`);
    const types = full.token_type_ids ?? new Array<number>(full.ids.length).fill(0);
    const end = at + plain.ids.length;
    this.prefix = { ids: full.ids.slice(0, at), tokens: full.tokens.slice(0, at), typeIds: types.slice(0, at) };
    this.suffix = { ids: full.ids.slice(end), tokens: full.tokens.slice(end), typeIds: types.slice(end) };
    this.sequenceTypeId = types[at] ?? 0;
    const vocab = tok.get_vocab(true);
    const padTok = tokenName(config.pad_token);
    const configured = padTok !== undefined ? vocab.get(padTok) : undefined;
    this.padId = configured ?? vocab.get('[PAD]') ?? vocab.get('<pad>') ?? vocab.get('<|endoftext|>') ?? 0;
    const side = config.padding_side;
    this.paddingSide = side === 'left' || side === 'right' ? side : config.tokenizer_class === 'XLNetTokenizer' ? 'left' : 'right';
    // filler piece counts: before a word ("a w") and after one ("w a")
    this.nPre = plain.ids.length;
    this.nPost = tok.encode(`${this.filler} ${this.filler}`, { add_special_tokens: false }).ids.length - plain.ids.length;
  }

  private encode(text: string): WordPieces {
    const e = this.tok.encode(text, { add_special_tokens: false });
    return { ids: e.ids, tokens: e.tokens };
  }

  private wrapped(word: string, pos: 'only' | 'first' | 'middle' | 'last'): WordPieces {
    const key = `${pos}\u0000${word}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let r: WordPieces;
    if (this.mode === 'word' || pos === 'only') {
      r = this.encode(word);
    } else {
      const f = this.filler;
      const text = pos === 'first' ? `${word} ${f}` : pos === 'middle' ? `${f} ${word} ${f}` : `${f} ${word}`;
      const e = this.encode(text);
      const start = pos === 'first' ? 0 : this.nPre;
      const end = pos === 'last' ? e.ids.length : e.ids.length - this.nPost;
      r = end > start ? { ids: e.ids.slice(start, end), tokens: e.tokens.slice(start, end) } : { ids: [], tokens: [] };
    }
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(key, r);
    return r;
  }

  sentencePieces(words: string[]): WordPieces[] {
    const n = words.length;
    return words.map((w, i) => this.wrapped(w, n === 1 ? 'only' : i === 0 ? 'first' : i === n - 1 ? 'last' : 'middle'));
  }
}

/** A special-token entry of tokenizer_config.json: a string or an AddedToken object `{content: ...}`. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function indexOfSeq(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
