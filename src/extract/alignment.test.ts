/**
 * Word alignment against transformers: for every model folder with a reference.json (the shared tiny models and the
 * generated fixtures in src/models/fixtures), the input ids, word ids and token type ids that neuroprobe builds for
 * each sentence equal what `tokenizer(words, is_split_into_words=True)` gave in Python, and the padding side is the
 * tokenizer's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWordTokenizer } from './tokenize.js';
import { referenceFolders } from './reference-testing.js';

interface RefSentence {
  words: string[];
  input_ids: number[];
  word_ids: Array<number | null>;
  token_type_ids?: number[];
}

/** Folders whose reference.json records each sentence's tokenisation (bert-mini-en's records counts only). */
const folders = referenceFolders().filter((d) => {
  const f = join(d, 'reference', 'reference.json');
  if (!existsSync(f)) return false;
  const s = (JSON.parse(readFileSync(f, 'utf8')) as { sentences?: unknown }).sentences;
  return Array.isArray(s) && s.length > 0 && Array.isArray((s[0] as { input_ids?: unknown }).input_ids);
});

test('alignment: the reference folders are there (shared tiny and the generated fixtures)', () => {
  assert.ok(folders.some((d) => d.includes('fixtures/gemma2')), 'generated fixtures found');
  assert.ok(folders.length >= 12, `${folders.length} folders`);
});

for (const dir of folders) {
  test(`${dir}: ids, word ids and token types as transformers' is_split_into_words`, () => {
    const ref = JSON.parse(readFileSync(join(dir, 'reference', 'reference.json'), 'utf8')) as { sentences: RefSentence[]; padding_side?: string };
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const tok = loadWordTokenizer({ tokenizerPath: join(dir, 'tokenizer.json'), tokenizerConfig });
    if (ref.padding_side) assert.equal(tok.paddingSide, ref.padding_side);
    assert.ok(ref.sentences.length >= 8);
    for (const s of ref.sentences) {
      const pieces = tok.sentencePieces(s.words);
      const ids = [...tok.prefix.ids, ...pieces.flatMap((p) => p.ids), ...tok.suffix.ids];
      const wordIds = [...tok.prefix.ids.map(() => null), ...pieces.flatMap((p, w) => p.ids.map(() => w)), ...tok.suffix.ids.map(() => null)];
      assert.deepEqual(ids, s.input_ids, s.words.join(' '));
      assert.deepEqual(wordIds, s.word_ids, s.words.join(' '));
      if (s.token_type_ids) {
        const types = [...tok.prefix.typeIds, ...pieces.flatMap((p) => p.ids.map(() => tok.sequenceTypeId)), ...tok.suffix.typeIds];
        assert.deepEqual(types, s.token_type_ids, s.words.join(' '));
      }
    }
  });
}
