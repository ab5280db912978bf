import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWordTokenizer } from './tokenize.js';
import { resolveModel } from './model.js';

const tmp = mkdtempSync(join(tmpdir(), 'np-tok-'));

/** A tiny tokenizer.json: BPE over a handful of pieces with the given pre-tokenizer / post-processor. */
function tinyTokenizer(name: string, vocab: string[], merges: string[], preTokenizer: object, postProcessor: object | null = null, decoder: object | null = null): string {
  const p = join(tmp, `${name}.json`);
  writeFileSync(
    p,
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: preTokenizer,
      post_processor: postProcessor,
      decoder,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(vocab.map((v, i) => [v, i])), merges },
    }),
  );
  return p;
}

test('byte-level BPE without a prefix space: each word alone by default (transformers), in-sentence pieces with mode context (NeuroX)', () => {
  const path = tinyTokenizer('gpt2', ['a', 'b', 'c', 'Ġ', 'Ġa', 'Ġb', 'bc', 'Ġbc', 'Ġc', 'cb', 'Ġcb'], ['b c', 'c b', 'Ġ bc', 'Ġ cb', 'Ġ a', 'Ġ b', 'Ġ c'], { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  const tok = loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: {} });
  assert.equal(tok.mode, 'word');
  assert.equal(tok.paddingSide, 'right');
  assert.deepEqual(tok.prefix.ids, []);
  assert.deepEqual(tok.suffix.ids, []);
  const words = ['bc', 'cb', 'a', 'bcb'];
  // transformers' is_split_into_words: the pre-tokenizer adds no space, so no word gets a Ġ
  assert.deepEqual(tok.sentencePieces(words).map((p) => p.tokens), [['bc'], ['cb'], ['a'], ['bc', 'b']]);
  const neurox = loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: {} }, { mode: 'context' });
  const pieces = neurox.sentencePieces(words);
  assert.deepEqual(pieces.map((p) => p.tokens), [['bc'], ['Ġcb'], ['Ġa'], ['Ġbc', 'b']]);
  // NeuroX's concatenation is exactly the tokenization of the whole sentence
  const direct = tok.sentencePieces([words.join(' ')])[0];
  assert.deepEqual(pieces.flatMap((p) => p.ids), direct.ids);
});

test('pad token and padding side come from tokenizer_config.json', () => {
  const path = tinyTokenizer('pad', ['a', 'b', '<pad>', '<x>'], [], { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.equal(loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: {} }).padId, 2);
  const tok = loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: { pad_token: { content: '<x>' }, padding_side: 'left' } });
  assert.equal(tok.padId, 3);
  assert.equal(tok.paddingSide, 'left');
  assert.equal(loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: { tokenizer_class: 'XLNetTokenizer' } }).paddingSide, 'left');
});

test('SentencePiece style (Metaspace ▁) with <s> ... </s> special tokens from the post-processor', () => {
  const vocab = ['<s>', '</s>', '<pad>', '▁', 'a', 'b', 'c', '▁a', '▁b', 'bc', '▁bc', '▁c'];
  const path = tinyTokenizer('sp', vocab, ['b c', '▁ bc', '▁ a', '▁ b', '▁ c'], { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
  });
  const tok = loadWordTokenizer({ tokenizerPath: path, tokenizerConfig: {} });
  assert.deepEqual(tok.prefix.tokens, ['<s>']);
  assert.deepEqual(tok.suffix.tokens, ['</s>']);
  assert.equal(tok.padId, 2);
  const pieces = tok.sentencePieces(['bc', 'a', 'cab']);
  assert.deepEqual(pieces.map((p) => p.tokens), [['▁bc'], ['▁a'], ['▁c', 'a', 'b']]);
  assert.deepEqual(tok.sentencePieces(['bc']).map((p) => p.tokens), [['▁bc']]);
});

test('BERT WordPiece: each word on its own, [CLS]/[SEP] from the template', async () => {
  const m = await resolveModel('assets/models/bert-mini-en');
  const tok = loadWordTokenizer(m);
  assert.equal(tok.mode, 'word');
  assert.deepEqual(tok.prefix.tokens, ['[CLS]']);
  assert.deepEqual(tok.suffix.tokens, ['[SEP]']);
  assert.equal(tok.padId, 0);
  assert.deepEqual(tok.sentencePieces(['retiring', 'jurists', '\u200b']).map((p) => p.tokens), [['retiring'], ['jurist', '##s'], []]);
});
