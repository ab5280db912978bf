import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressView } from './io.js';

function fakeStream(): { text: string; write(t: string): void } {
  return { text: '', write(t: string) { this.text += t; } };
}

test('terminal progress: redrawn from the events (throttled), log lines on their own lines, no bar left behind', () => {
  const s = fakeStream();
  let now = 0;
  const view = new ProgressView(s, { tty: true, redrawMs: 100, now: () => now });
  const p = view.session();
  p.onProgress({ kind: 'stage', done: 1, total: 8, unit: 'stages', message: 'oracle' });
  const first = s.text;
  assert.match(first, /\[stage\].*1\/8 stages/);
  // a burst of events inside 100 ms draws nothing more; the next one after it draws the newest state
  for (let i = 1; i <= 50; i++) p.onProgress({ kind: 'train', done: i, unit: 'iterations', message: `objective ${1 / i}` });
  assert.equal(s.text, first);
  now = 150;
  p.onProgress({ kind: 'train', done: 51, unit: 'iterations', message: 'objective 0.0196' });
  assert.match(s.text.slice(first.length), /\[train\] 51 iterations \| .*objective 0\.0196/);
  // a log line: the bars are erased first and redrawn below it, so the line stands alone
  const before = s.text.length;
  view.log('[analysis] m / upos: done');
  const chunk = s.text.slice(before);
  assert.match(chunk, /^\x1b\[2A\r\x1b\[J\[analysis\] m \/ upos: done\n/);
  assert.match(chunk, /\[stage\][^\n]*\n\r?\x1b\[2K\[train\]/);
  // a select bar that stops early (target reached) goes when the next stage starts
  now = 300;
  p.onProgress({ kind: 'select', done: 5, total: 8, unit: 'sizes' });
  now = 500;
  p.onProgress({ kind: 'stage', done: 2, total: 8, unit: 'stages', message: 'ablation' });
  const last = s.text.slice(s.text.lastIndexOf('\x1b[3A'));
  assert.doesNotMatch(last, /\[select\]|\[train\]/);
  assert.match(last, /ablation/);
  p.done();
  assert.ok(s.text.endsWith('\x1b[J'));
});

test('plain progress (no terminal): throttled lines per kind, final lines always, no rates from nothing', () => {
  const s = fakeStream();
  let now = 0;
  const view = new ProgressView(s, { tty: false, lineMs: 2000, now: () => now });
  const p = view.session();
  p.onProgress({ kind: 'select', done: 0, total: 4, unit: 'sizes' });
  p.onProgress({ kind: 'select', done: 1, total: 4, unit: 'sizes' });
  now = 2500;
  p.onProgress({ kind: 'select', done: 2, total: 4, unit: 'sizes' });
  p.onProgress({ kind: 'select', done: 4, total: 4, unit: 'sizes' });
  view.log('done');
  assert.deepEqual(s.text.trimEnd().split('\n'), [
    '[select] 0/4 sizes (0.0%)',
    '[select] 2/4 sizes (50.0%) | 1.3 s/size | ETA 0:03',
    '[select] 4/4 sizes (100.0%) | 1.6 sizes/s',
    'done',
  ]);
  assert.doesNotMatch(s.text, /0 \w+\/s|NaN|ETA N/);
});
