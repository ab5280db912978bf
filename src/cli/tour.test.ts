/**
 * The README's quick tour, run as written: the first `sh` block under "## A quick tour" is taken from README.md and
 * run with bash (`npx neuroprobe` → this checkout's bin, `/tmp/np-tour` → a fresh temporary folder). Every command
 * must succeed, and the study and its report must exist at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../run/config.js';

const root = packageRoot();

/** The tour's shell script, as it stands in the README. */
export function tourScript(readme: string): string {
  const at = readme.indexOf('## A quick tour');
  assert.ok(at >= 0, 'README has a "## A quick tour" section');
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, 'the tour has a sh block');
  return m[1];
}

test('the README tour has no placeholders', () => {
  const script = tourScript(readFileSync(join(root, 'README.md'), 'utf8'));
  const code = script.replace(/(^|\s)#.*$/gm, ''); // comments may say "..."
  assert.doesNotMatch(code, /\.\.\.|\(same |\bA\.hdf5\b|<[a-z]+>/, 'no "...", "(same data flags)" or <placeholders>');
  assert.ok((script.match(/^\s*npx neuroprobe /gm) ?? []).length >= 12);
});

test('every command of the README tour runs as written', { timeout: 900_000 }, () => {
  const script = tourScript(readFileSync(join(root, 'README.md'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'np-tour-'));
  try {
    const body = script.replaceAll('npx neuroprobe', `node ${JSON.stringify(join(root, 'bin', 'neuroprobe.js'))}`).replaceAll('/tmp/np-tour', dir);
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', body], { cwd: root, env: { ...process.env, CI: '1', NEUROPROBE_OFFLINE: '1' }, encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, `the tour stopped (exit ${r.status}):\n${r.stderr.slice(-4000)}`);
    assert.ok(existsSync(join(dir, 'study', 'results.json')));
    assert.ok(existsSync(join(dir, 'study', 'report', 'index.html')));
    const results = JSON.parse(readFileSync(join(dir, 'study', 'results.json'), 'utf8'));
    assert.equal(results.results[0].task, 'upos');
    assert.ok(results.provenance.models[0].weightsSha256);
    assert.match(r.stdout, /minimal subset: \d+ neurons/);
    assert.match(r.stdout, /lca: 1280 neurons; top 20: \d+ \(L\d:U\d+\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
