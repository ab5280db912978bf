import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEta, formatProgress, formatRate } from './progress.js';

test('rates and ETAs only when they mean something', () => {
  assert.equal(formatRate(0, 10, 'stages'), '', 'nothing done yet');
  assert.equal(formatRate(5, 0.2, 'words'), '', 'under a second of work');
  assert.equal(formatRate(3, 30, 'stages'), '10.0 s/stage', 'slow work as seconds per item, never "0 stages/s"');
  assert.equal(formatRate(12345, 2, 'words'), '6,173 words/s');
  assert.equal(formatRate(15, 10, 'iterations'), '1.5 iterations/s');
  assert.equal(formatEta(0, 10, 5), '', 'no ETA before the first item ("ETA NFs")');
  assert.equal(formatEta(5, undefined, 5), '', 'no ETA without a total');
  assert.equal(formatEta(1, 4, 1), '', 'no ETA under 2 s');
  assert.equal(formatEta(1, 4, 20), '1:00');
  assert.equal(formatEta(1, 1000, 20), '5:33:00');
  assert.equal(formatEta(4, 4, 20), '', 'finished');
});

test('a progress line leaves out what is unknown', () => {
  assert.equal(formatProgress({ kind: 'stage', done: 0, total: 8, unit: 'stages', message: 'oracle' }, 0), '[stage] 0/8 stages (0.0%) | oracle');
  assert.equal(formatProgress({ kind: 'extract', done: 500, total: 1000, unit: 'words' }, 2), '[extract] 500/1000 words (50.0%) | 250 words/s | ETA 0:02');
  assert.equal(formatProgress({ kind: 'train', done: 40, unit: 'iterations', message: 'objective 0.5' }, 4), '[train] 40 iterations | 10.0 iterations/s | objective 0.5');
  assert.match(formatProgress({ kind: 'x', done: 1, total: 4 }, 0, { bar: 8 }), /^\[x\] ██░░░░░░ 1\/4 \(25\.0%\)$/);
  assert.doesNotMatch(formatProgress({ kind: 'x', done: 3, total: 0 }, 5), /NaN|Infinity/);
});
