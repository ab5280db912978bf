/**
 * Word → subword alignment, as NeuroX does it (paper-and-neurox.md §2.2, §4.8).
 *
 * - WordPiece (BERT-style) tokenizers: each word is tokenized on its own; pieces never depend on context.
 * - BPE / Unigram (GPT-2 "Ġ", SentencePiece "▁") tokenizers: each word is tokenized in context with a filler word
 *   (`"w a"` for the first word, `"a w a"` in the middle, `"a w"` at the end) and the filler pieces are stripped,
 *   so a word gets the pieces it has inside a sentence (e.g. `Ġword`, not `word`).
 *
 * The model input for a sentence is `prefix + pieces(w1) + ... + pieces(wn) + suffix`, where prefix/suffix are the
 * special tokens of the tokenizer's post-processor (e.g. [CLS] ... [SEP], <s> ... </s>, nothing for GPT-2).
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

/** A tokenizer that splits pre-tokenized words into model pieces. */
export interface WordTokenizer {
  /** 'word' (each word alone: WordPiece) or 'context' (filler-wrapped: BPE, Unigram). */
  readonly mode: 'word' | 'context';
  /** The tokenizer model type from tokenizer.json (WordPiece, BPE, Unigram, ...). */
  readonly modelType: string;
  /** Special tokens put before / after a single sequence by the post-processor. */
  readonly prefix: WordPieces;
  readonly suffix: WordPieces;
  /** Id used to pad batches (pad token, else 0). */
  readonly padId: number;
  /** Pieces of every word of a sentence, in order (a word may get zero pieces). */
  sentencePieces(words: string[]): WordPieces[];
}

/** Options for {@link loadWordTokenizer}. */
export interface WordTokenizerOptions {
  /** Force the alignment mode (default: 'word' for WordPiece, 'context' otherwise). */
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
  return new HFWordTokenizer(tok, modelType, opts);
}

class HFWordTokenizer implements WordTokenizer {
  readonly mode: 'word' | 'context';
  readonly prefix: WordPieces;
  readonly suffix: WordPieces;
  readonly padId: number;
  private readonly filler: string;
  private readonly nPre: number;
  private readonly nPost: number;
  private readonly cache = new Map<string, WordPieces>();

  constructor(
    private readonly tok: Tokenizer,
    readonly modelType: string,
    opts: WordTokenizerOptions,
  ) {
    this.mode = opts.mode ?? (modelType === 'WordPiece' ? 'word' : 'context');
    this.filler = opts.filler ?? 'a';
    // special tokens: encode the filler with and without them and see what surrounds it
    const plain = tok.encode(this.filler, { add_special_tokens: false });
    const full = tok.encode(this.filler, { add_special_tokens: true });
    const at = indexOfSeq(full.ids, plain.ids);
    if (at < 0) throw new InputError(`tokenizer post-processor changes the text pieces; cannot locate special tokens`);
    this.prefix = { ids: full.ids.slice(0, at), tokens: full.tokens.slice(0, at) };
    this.suffix = { ids: full.ids.slice(at + plain.ids.length), tokens: full.tokens.slice(at + plain.ids.length) };
    const vocab = tok.get_vocab(true);
    this.padId = vocab.get('[PAD]') ?? vocab.get('<pad>') ?? vocab.get('<|endoftext|>') ?? 0;
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

function indexOfSeq(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
