/**
 * The tour's last two steps on real output: `neuroprobe run` on a tiny study, then `neuroprobe report` on the
 * results.json it wrote (no timings inside: they live in run.json), with and without run.json beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { captureIO } from '../testing.js';
import { packageRoot } from '../../run/config.js';

const root = packageRoot();

test('report accepts what run writes: results.json without timings, run.json merged when present', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-report-run-'));
  try {
    const cfg = join(dir, 'study.json');
    writeFileSync(cfg, JSON.stringify({
      name: 'tiny tour',
      models: [
        { name: 'mini', path: join(root, 'assets/models/bert-mini-en'), batchSize: 16 },
        { name: 'mini-again', path: join(root, 'assets/models/bert-mini-en'), batchSize: 16, layers: [0, 4] },
      ],
      data: {
        train: { path: join(root, 'assets/data/ud/en_ewt-ud-train.conllu'), maxTokens: 400 },
        dev: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu'), maxTokens: 150 },
        test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu'), maxTokens: 200 },
      },
      tasks: ['upos'],
      ablation: [10],
      delta: 5,
      neuronViews: 3,
    }));
    const out = join(dir, 'out');
    const io = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'run', cfg, '--out', out, '--json'], io), 0, io.errText);
    const resultsPath = join(out, 'results.json');
    const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
    assert.ok(results.results.every((r: { timings?: unknown }) => r.timings === undefined), 'results.json holds no timings');

    // provenance: both entries name the same weights; corpora carry their hashes; the resolved config is complete
    const p = results.provenance;
    assert.equal(p.models.length, 2);
    assert.equal(p.models[0].path, join(root, 'assets/models/bert-mini-en'));
    assert.equal(p.models[0].modelType, 'bert');
    assert.match(p.models[0].weightsSha256, /^[0-9a-f]{64}$/);
    assert.equal(p.models[0].weightsSha256, p.models[1].weightsSha256);
    assert.deepEqual(p.corpora.map((c: { split: string }) => c.split), ['train', 'dev', 'test']);
    assert.ok(p.corpora.every((c: { sha256: string }) => /^[0-9a-f]{64}$/.test(c.sha256)));
    assert.equal(p.config.probe.l1, 0.001, 'defaults are filled in');
    assert.equal(p.seed, 13);

    // report with run.json beside results.json: timings come back
    const r1 = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'report', resultsPath, '--out', join(dir, 'r1'), '--json'], r1), 0, r1.errText);
    const html1 = readFileSync(join(dir, 'r1', 'index.html'), 'utf8');
    assert.ok(html1.includes('Timings (seconds)'));
    assert.match(html1, /identical weights to mini-again/);
    assert.ok(html1.includes('en_ewt-ud-train.conllu'));

    // without run.json: still a report, without the timings table
    rmSync(join(out, 'run.json'));
    const r2 = captureIO();
    assert.equal(await main(['node', 'neuroprobe', 'report', resultsPath, '--out', join(dir, 'r2')], r2), 0, r2.errText);
    const html2 = readFileSync(join(dir, 'r2', 'index.html'), 'utf8');
    assert.ok(existsSync(join(dir, 'r2', 'index.html')));
    assert.ok(!html2.includes('Timings (seconds)'));
    assert.match(html2, /<table id="table-main"[\s\S]*?mini[\s\S]*?upos/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('help shows each default once', async () => {
  const { buildProgram } = await import('../main.js');
  const program = buildProgram(captureIO());
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)];
  let options = 0;
  for (const cmd of all) {
    const help = cmd.helpInformation();
    for (const opt of cmd.options) {
      options++;
      const start = help.indexOf(opt.flags);
      const next = cmd.options.map((o) => help.indexOf(o.flags, start + 1)).filter((i) => i > start);
      const text = help.slice(start, next.length ? Math.min(...next) : undefined).replace(/\s+/g, ' ');
      assert.ok((text.match(/\bdefault\b/gi) ?? []).length <= 1, `${cmd.name()} ${opt.flags}: "${text}"`);
    }
  }
  assert.ok(options > 50, `checked ${options} options`);
});
