import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, validateConfig } from './config.js';
import { errorOf } from '../util/testing.js';
import { main } from '../cli/main.js';
import { captureIO } from '../cli/testing.js';

const root = packageRoot();
const MODEL = join(root, 'assets/models/bert-mini-en');

/** A valid config (embedded model and corpora) with `patch` applied to a deep copy. */
function cfg(patch: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c: Record<string, any> = {
    models: [{ name: 'a', path: MODEL }],
    data: {
      train: { path: join(root, 'assets/data/ud/en_ewt-ud-train.conllu'), maxTokens: 100 },
      dev: { path: join(root, 'assets/data/ud/en_ewt-ud-dev.conllu') },
      test: { path: join(root, 'assets/data/ud/en_ewt-ud-test.conllu') },
    },
    tasks: ['upos'],
  };
  patch(c);
  return c;
}

const check = (c: Record<string, any>) => validateConfig(c, 'study.yaml', root);
const err = (c: Record<string, any>) => errorOf(() => check(c)).message;

test('the base config is valid', () => {
  assert.equal(check(cfg()).models[0].path, MODEL);
});

test('ranker names, task names and the probe solver are checked, naming the key', () => {
  assert.match(err(cfg((c) => (c.ranker = 'probless'))), /^study\.yaml: invalid config value at "ranker": unknown ranker 'probless' \(did you mean 'probeless'\?\) \(expected one of lca, /);
  assert.match(err(cfg((c) => (c.rankers = ['lca', 'gausian']))), /"rankers\[1\]": unknown ranker 'gausian' \(did you mean 'gaussian'\?\)/);
  assert.match(err(cfg((c) => (c.tasks = ['upos', 'posx']))), /"tasks\[1\]": unknown task 'posx'/);
  assert.match(err(cfg((c) => (c.probe = { solver: 'adam' }))), /"probe\.solver": unknown solver 'adam' \(expected one of auto, neurox\)/);
});

test('every model path needs config.json, tokenizer.json and weights (ONNX or safetensors); hub ids are left to the resolver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-cfg-model-'));
  const second = (p: string) => cfg((c) => c.models.push({ name: 'b', path: p }));
  assert.match(err(second(join(dir, 'nope'))), /"models\[1\]\.path": model folder .*nope does not exist/);
  const m = join(dir, 'm');
  mkdirSync(m);
  writeFileSync(join(m, 'config.json'), '{}');
  assert.match(err(second(m)), /"models\[1\]\.path": model folder .* has no tokenizer\.json/);
  writeFileSync(join(m, 'tokenizer.json'), '{}');
  assert.match(err(second(m)), /"models\[1\]\.path": model folder .* has no weights \(expected one of onnx\/model\.onnx, model\.onnx, model\.safetensors, model\.safetensors\.index\.json\)/);
  writeFileSync(join(m, 'model.safetensors.index.json'), '{}');
  assert.equal(check(second(m)).models[1].path, m);
  const s = join(dir, 's');
  mkdirSync(join(s, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) writeFileSync(join(s, f), '{}');
  assert.equal(check(second(s)).models[1].path, s);
  // another ONNX file name: the checkpoint is still there
  assert.doesNotThrow(() => check(cfg((c) => c.models.push({ name: 'b', path: s, onnxFile: 'q.onnx' }))));
  // a file is not a folder
  assert.match(err(second(join(m, 'config.json'))), /"models\[1\]\.path": model path .* is a file/);
  // a hub id (no such local folder) passes: it is resolved from the cache or downloaded when the study runs
  assert.equal(check(second('bert-base-cased')).models[1].path, 'bert-base-cased');
});

test('every corpus and label path must exist, naming its key', () => {
  assert.match(err(cfg((c) => (c.data.dev.path = 'missing-dev.conllu'))), /"data\.dev\.path": corpus .*missing-dev\.conllu does not exist/);
  assert.match(err(cfg((c) => (c.data.train.labels = 'train.label'))), /"data\.train\.labels": label file .*train\.label does not exist/);
  assert.match(err(cfg((c) => (c.data.test.path = root))), /"data\.test\.path": corpus .* is not a file/);
  // the Brown corpus is not a path
  assert.doesNotThrow(() => check(cfg((c) => { c.data.train = { path: 'brown:ca01' }; c.data.test = { path: 'brown:ca02' }; delete c.data.dev; c.tasks = ['brown']; })));
});

test('numeric ranges: delta in (0, 100), ablation shares in (0, 100], sizes > 0, each naming its key', () => {
  for (const d of [0, 100, 101, -1]) assert.match(err(cfg((c) => (c.delta = d))), /invalid config value at "delta"/, String(d));
  assert.doesNotThrow(() => check(cfg((c) => (c.delta = 99.5))));
  assert.match(err(cfg((c) => (c.ablation = [10, 0]))), /"ablation\[1\]"/);
  assert.match(err(cfg((c) => (c.ablation = [101]))), /"ablation\[0\]"/);
  assert.doesNotThrow(() => check(cfg((c) => (c.ablation = [100]))));
  assert.match(err(cfg((c) => (c.data.train.maxTokens = 0))), /"data\.train\.maxTokens"/);
  assert.match(err(cfg((c) => (c.models[0].batchSize = 0))), /"models\[0\]\.batchSize"/);
  assert.match(err(cfg((c) => (c.models[0].maxLength = -3))), /"models\[0\]\.maxLength"/);
});

test('a known key at the wrong level gets a "did you mean" with its full key', () => {
  assert.match(err(cfg((c) => (c.devFraction = 0.2))), /unknown config key "devFraction" \(did you mean "data\.devFraction"\?\)/);
  assert.match(err(cfg((c) => (c.data.seed = 3))), /unknown config key "data\.seed" \(did you mean "seed"\?\)/);
  assert.match(err(cfg((c) => (c.aggregation = 'first'))), /"aggregation" \(did you mean "models\[\]\.aggregation"\?\)/);
  assert.match(err(cfg((c) => (c.models[0].tol = 0.1))), /"models\[0\]\.tol" \(did you mean "probe\.tol"\?\)/);
});

test('neuroprobe run: a bad path for the second model fails before any extraction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-cfg-run-'));
  const p = join(dir, 'study.json');
  writeFileSync(p, JSON.stringify(cfg((c) => c.models.push({ name: 'b', path: join(dir, 'typo-model') }))));
  const io = captureIO();
  const out = join(dir, 'out');
  assert.equal(await main(['node', 'neuroprobe', 'run', p, '--out', out], io), 2, io.errText);
  assert.match(io.errText, /study\.json: invalid config value at "models\[1\]\.path": model folder .*typo-model does not exist/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir), ['study.json']);
});
