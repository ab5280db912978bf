import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConllu, readConllu, iterateConllu, parseMisc, parseFeats, CONLLU_COLUMNS, wordColumn } from './conllu.js';
import { iterateLines } from './lines.js';
import { InputError } from '../util/errors.js';
import { errorOf } from '../util/testing.js';

const T = '\t';
const row = (...c: string[]): string => c.join(T);
const GOOD = [
  '# newdoc id = d1',
  '# sent_id = s1',
  '# text = Don\'t go.',
  row('1-2', "Don't", '_', '_', '_', '_', '_', '_', '_', '_'),
  row('1', 'Do', 'do', 'AUX', 'VBP', 'Mood=Imp|VerbForm=Fin', '3', 'aux', '3:aux', '_'),
  row('2', "n't", 'not', 'PART', 'RB', '_', '3', 'advmod', '3:advmod', '_'),
  row('3', 'go', 'go', 'VERB', 'VB', 'VerbForm=Inf', '0', 'root', '0:root', 'SpaceAfter=No'),
  row('3.1', 'went', 'go', 'VERB', 'VBD', '_', '_', '_', '3:conj', '_'),
  row('4', '.', '.', 'PUNCT', '.', '_', '3', 'punct', '3:punct', '_'),
  '',
  row('1', 'Hi', 'hi', 'INTJ', 'UH', '_', '0', 'root', '0:root', 'Entity=(1-person)|Gloss=hello'),
].join('\n'); // second sentence has no id and no final blank line


test('parseConllu keeps syntactic words, ids, text, comments and all ten columns', () => {
  const c = parseConllu(GOOD, 'good.conllu');
  assert.equal(c.length, 2);
  const [s, t] = c;
  assert.equal(s.id, 's1');
  assert.equal(s.text, "Don't go.");
  assert.deepEqual(s.comments, ['newdoc id = d1', 'sent_id = s1', "text = Don't go."]);
  assert.deepEqual(s.words.map((w) => w.form), ['Do', "n't", 'go', '.']);
  assert.deepEqual(Object.keys(s.words[0].cols), [...CONLLU_COLUMNS]);
  assert.equal(s.words[0].cols.feats, 'Mood=Imp|VerbForm=Fin');
  assert.equal(s.words[2].cols.misc, 'SpaceAfter=No');
  assert.equal(s.words[2].cols.deps, '0:root');
  assert.equal(s.words[2].line, 7);
  assert.equal(s.line, 1);
  assert.equal(wordColumn(s.words[1], 'upos'), 'PART');
  assert.equal(wordColumn(s.words[1], 'misc'), '_');
  assert.equal(wordColumn(s.words[1], 'id'), '2');
  // unterminated last sentence is fine; generated id uses the file basename
  assert.equal(t.id, 'good.conllu:2');
  assert.equal(t.words.length, 1);
  assert.deepEqual(parseMisc(t.words[0].cols.misc), { Entity: '(1-person)', Gloss: 'hello' });
  assert.deepEqual(JSON.parse(JSON.stringify(t.words[0])).cols.upos, 'INTJ');
});

test('parseMisc and parseFeats parse on demand and reject items without =', () => {
  assert.deepEqual(parseMisc('_'), {});
  assert.deepEqual(parseMisc('SpaceAfter=No|Translit=x=y'), { SpaceAfter: 'No', Translit: 'x=y' });
  assert.deepEqual(parseFeats('Case=Nom|Number=Sing'), { Case: 'Nom', Number: 'Sing' });
  const e = errorOf(() => parseMisc('SpaceAfter=No|Oops', { file: 'f.conllu', line: 9 }));
  assert.match(e.message, /f\.conllu:9: bad MISC item 'Oops'/);
  assert.throws(() => parseFeats('Case='), InputError);
});

test('readConllu and iterateConllu stream from a file, including CRLF and BOM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-conllu-'));
  const f = join(dir, 'crlf.conllu');
  writeFileSync(f, '\ufeff' + GOOD.replace(/\n/g, '\r\n') + '\r\n');
  const a = readConllu(f);
  const b = parseConllu(GOOD, f);
  assert.equal(a.length, 2);
  assert.deepEqual(a.map((s) => s.words.map((w) => w.cols.misc)), b.map((s) => s.words.map((w) => w.cols.misc)));
  assert.equal(a[0].comments![0], 'newdoc id = d1');
  let n = 0;
  for (const s of iterateConllu(f)) n += s.words.length;
  assert.equal(n, 5);
  // tiny chunks exercise lines split across reads
  const lines = [...iterateLines(f, 7)].map(([l]) => l);
  assert.equal(lines.length, GOOD.split('\n').length);
  assert.equal(lines[4], GOOD.split('\n')[4]);
});

test('CoNLL-U errors name the file, the line and what was expected', () => {
  const base = GOOD.split('\n');
  const bad = (i: number, line: string): string => [...base.slice(0, i), line, ...base.slice(i + 1)].join('\n');
  const cases: [string, number, RegExp][] = [
    [bad(4, row('1', 'Do', 'do', 'AUX', 'VBP', '_', '3', 'aux', '3:aux')), 5, /found 9 tab-separated columns \(expected 10/],
    [bad(4, 'x y z'), 5, /found 1 tab-separated column \(expected 10/],
    [bad(4, row('one', 'Do', 'do', 'AUX', 'VBP', '_', '3', 'aux', '3:aux', '_')), 5, /bad word id 'one'.*expected an integer word id/],
    [bad(5, row('3', "n't", 'not', 'PART', 'RB', '_', '3', 'advmod', '3:advmod', '_')), 6, /word id 3 out of order.*expected word id 2/],
    [bad(6, row('3', 'go', 'go', 'VERB', 'VB', 'VerbForm=Inf', '0', 'root', '0:root', 'SpaceAfter')), 7, /bad MISC item 'SpaceAfter'/],
    [bad(6, row('3', 'go', 'go', 'VERB', 'VB', 'VerbForm', '0', 'root', '0:root', '_')), 7, /bad FEATS item 'VerbForm'/],
    [bad(6, row('3', 'go', 'go', 'VERB', 'VB', '_', '0', 'root', '0:root', 'A=1||B=2')), 7, /bad MISC item ''/],
    [bad(7, row('2.1', 'went', 'go', 'VERB', 'VBD', '_', '_', '_', '3:conj', '_')), 8, /empty node 2\.1 out of order/],
  ];
  for (const [text, line, re] of cases) {
    const e = errorOf(() => parseConllu(text, 'bad.conllu'));
    assert.equal(e.location?.file, 'bad.conllu');
    assert.equal(e.location?.line, line, e.message);
    assert.match(e.message, new RegExp(`^bad\\.conllu:${line}: `));
    assert.match(e.message, re);
  }
});

test('an empty corpus and a missing file are InputErrors', () => {
  assert.match(errorOf(() => parseConllu('\n\n', 'empty.conllu')).message, /empty\.conllu: empty corpus/);
  assert.match(errorOf(() => parseConllu('', 'empty.conllu')).message, /empty corpus/);
  assert.match(errorOf(() => readConllu('/nonexistent/x.conllu')).message, /x\.conllu: .*not found/);
  assert.match(errorOf(() => parseConllu('# only a comment\n', 'c.conllu')).message, /c\.conllu:1: comment lines without any word line/);
});

test('iterateConllu is lazy: the first sentences come out before a later bad line is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-conllu-'));
  const f = join(dir, 'late-error.conllu');
  const good = GOOD.split('\n').slice(0, 10).join('\n') + '\n\n';
  // ~3 MiB of good sentences, then a 9-column line: the reader works in 1 MiB chunks
  writeFileSync(f, good.repeat(Math.ceil((3 << 20) / good.length)) + row('1', 'x', 'x', 'X', 'X', '_', '0', 'root', '_') + '\n');
  const it = iterateConllu(f);
  const first = it.next();
  assert.equal(first.done, false);
  assert.equal((first.value as { id: string }).id, 's1');
  it.return(undefined);
  assert.throws(() => readConllu(f), /late-error\.conllu:\d+: found 9 tab-separated columns/);
});

test('HEAD must be _ or point inside its sentence (0..n), reported at its own line', () => {
  const base = GOOD.split('\n');
  const bad = (i: number, line: string): string => [...base.slice(0, i), line, ...base.slice(i + 1)].join('\n');
  // line 6 (word 2) points at word 9 of a 4-word sentence
  let e = errorOf(() => parseConllu(bad(5, row('2', "n't", 'not', 'PART', 'RB', '_', '9', 'advmod', '3:advmod', '_')), 'h.conllu'));
  assert.equal(e.location?.line, 6);
  assert.match(e.message, /^h\.conllu:6: HEAD 9 points outside the sentence, which has 4 words \(expected a HEAD in 0\.\.4\)/);
  // n itself is fine, n + 1 is not
  assert.equal(parseConllu(bad(5, row('2', "n't", 'not', 'PART', 'RB', '_', '4', 'advmod', '3:advmod', '_')), 'h.conllu').length, 2);
  e = errorOf(() => parseConllu(bad(5, row('2', "n't", 'not', 'PART', 'RB', '_', '5', 'advmod', '3:advmod', '_')), 'h.conllu'));
  assert.equal(e.location?.line, 6);
  // not a number
  e = errorOf(() => parseConllu(bad(5, row('2', "n't", 'not', 'PART', 'RB', '_', '-1', 'advmod', '3:advmod', '_')), 'h.conllu'));
  assert.match(e.message, /^h\.conllu:6: bad HEAD '-1'/);
  // `_` (tagging-only corpora) is accepted
  assert.equal(parseConllu(bad(5, row('2', "n't", 'not', 'PART', 'RB', '_', '_', 'advmod', '3:advmod', '_')), 'h.conllu').length, 2);
});

test('a multiword range running past its sentence is reported at the range line', () => {
  const base = GOOD.split('\n');
  // line 4 is '1-2'; make it 1-9 (the sentence has 4 words); the error must name line 4, not the sentence start
  const text = [...base.slice(0, 3), row('1-9', "Don't", '_', '_', '_', '_', '_', '_', '_', '_'), ...base.slice(4)].join('\n');
  const e = errorOf(() => parseConllu(text, 'r.conllu'));
  assert.equal(e.location?.line, 4);
  assert.match(e.message, /^r\.conllu:4: multiword range reaches word 9 but the sentence has 4 words/);
});

test('an empty MISC column (a line ending in a tab) reads as _', () => {
  const text = [row('1', 'Hi', 'hi', 'INTJ', 'UH', '_', '0', 'root', '0:root', ''), row('2', 'there', 'there', 'ADV', 'RB', '_', '1', 'advmod', '1:advmod', 'SpaceAfter=No')].join('\n');
  const [s] = parseConllu(text, 'm.conllu');
  assert.equal(s.words[0].cols.misc, '_');
  assert.equal(wordColumn(s.words[0], 'misc'), '_');
  assert.equal(wordColumn(s.words[1], 'misc'), 'SpaceAfter=No');
  assert.deepEqual(parseMisc(s.words[0].cols.misc), {});
});

test('bytes that are not UTF-8 are an error naming file:line, also past the first read chunk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-conllu-'));
  const f = join(dir, 'latin1.conllu');
  const lines = GOOD.split('\n');
  // line 6: "n't" with a Latin-1 byte (0xe9) instead of a UTF-8 sequence; the word before it has valid 2-byte UTF-8
  const head = Buffer.from(lines.slice(0, 5).join('\n').replace('\tDo\t', '\tDö\t') + '\n');
  const bad = Buffer.concat([Buffer.from('2\tn'), Buffer.from([0xe9]), Buffer.from("'t\tnot\tPART\tRB\t_\t3\tadvmod\t3:advmod\t_\n")]);
  const tail = Buffer.from(lines.slice(6).join('\n') + '\n');
  writeFileSync(f, Buffer.concat([head, bad, tail]));
  const e = errorOf(() => readConllu(f));
  assert.equal(e.location?.line, 6);
  assert.match(e.message, /latin1\.conllu:6: bytes that are not valid UTF-8 \(byte 0xe9 at byte column 4\)/);
  // the same in a later chunk (tiny chunks): the line number still counts from the start of the file
  const e2 = errorOf(() => [...iterateLines(f, 16)]);
  assert.equal(e2.location?.line, 6);
  // valid multi-byte text passes
  writeFileSync(f, Buffer.concat([head, Buffer.from(lines[5] + '\n'), tail]));
  assert.equal(readConllu(f)[0].words[0].form, 'Dö');
});
