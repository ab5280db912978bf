import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planWindows } from './windows.js';

test('a sentence that fits is one window owning every word', () => {
  const p = planWindows([1, 2, 1], 4);
  assert.deepEqual(p.windows, [{ startWord: 0, endWord: 3 }]);
  assert.deepEqual(p.owner, [0, 0, 0]);
  assert.deepEqual(p.truncatedWords, []);
});

test('long sentences get overlapping windows of whole words that cover every word', () => {
  const counts = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const p = planWindows(counts, 4); // stride 2
  assert.deepEqual(p.windows, [
    { startWord: 0, endWord: 4 },
    { startWord: 2, endWord: 6 },
    { startWord: 4, endWord: 8 },
    { startWord: 6, endWord: 10 },
  ]);
  // each word comes from a window that contains it, with the most context on both sides
  p.owner.forEach((k, w) => assert.ok(p.windows[k].startWord <= w && w < p.windows[k].endWord));
  assert.equal(p.owner[0], 0); // sentence start: window 0 has unlimited left context
  assert.equal(p.owner[9], 3);
  assert.equal(p.owner[3], 1); // word 3: 1 piece left / 2 right in window 1, vs 3 left / 0 right in window 0
});

test('no window exceeds the budget and words keep their pieces together', () => {
  const counts = [3, 1, 2, 4, 1, 1, 2, 3, 1, 2, 2, 1];
  const budget = 6;
  const p = planWindows(counts, budget, 2);
  for (const w of p.windows) {
    const n = counts.slice(w.startWord, w.endWord).reduce((a, b) => a + b, 0);
    assert.ok(n <= budget, `window ${JSON.stringify(w)} holds ${n} pieces`);
  }
  assert.equal(p.windows[0].startWord, 0);
  assert.equal(p.windows[p.windows.length - 1].endWord, counts.length);
});

test('a word longer than a window is cut and reported', () => {
  const p = planWindows([1, 9, 1], 4);
  assert.deepEqual(p.truncatedWords, [1]);
  p.owner.forEach((k, w) => assert.ok(p.windows[k].startWord <= w && w < p.windows[k].endWord));
});

test('zero-piece words ride along in a window', () => {
  const p = planWindows([2, 0, 2, 0, 2], 4);
  assert.equal(p.owner.length, 5);
  p.owner.forEach((k, w) => assert.ok(p.windows[k].startWord <= w && w < p.windows[k].endWord));
});
