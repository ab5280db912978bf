import { test } from 'node:test';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfig, packageRoot, validateConfig } from './config.js';
import { FUZZ_RUNS, FUZZ_SEED, mutationsArb, mutate, returnsOrInputError } from '../util/fuzz-kit.js';

const root = packageRoot();
const VALID = {
  name: 'fuzz',
  seed: 3,
  models: [{ name: 'a', path: 'assets/models/bert-mini-en', aggregation: 'last', layers: [0, 2], dtype: 'float16', batchSize: 8 }],
  data: {
    train: { path: 'assets/data/ud/en_ewt-ud-dev.conllu', maxTokens: 500 },
    test: { path: 'assets/data/ud/en_ewt-ud-test.conllu', maxTokens: 500 },
    devFraction: 0.2,
    unknownLabels: 'drop',
  },
  tasks: ['upos', 'control:xpos', 'feat:Number'],
  probe: { l1: 0.001, l2: 0.001, tol: 0.01 },
  ranker: 'lca',
  delta: 1,
  ablation: [10, 20],
  neuronViews: 5,
};

/** Every key path of a plain value (arrays by index). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [prefix, ...v.flatMap((x, i) => paths(x, [...prefix, i]))];
  if (v && typeof v === 'object') return [prefix, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...prefix, k]))];
  return [prefix];
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = Array.isArray(obj) ? [...obj] : { ...(obj as object) };
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), value);
  return copy;
}

test('fuzz: a study config with any value replaced by anything validates or throws an InputError', { timeout: 60_000 }, async () => {
  const all = paths(VALID);
  const weird = fc.oneof(fc.anything({ maxDepth: 2 }), fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 1e308, 101, '', 'lca', 'upos', null, [], {}));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(), weird), { minLength: 1, maxLength: 3 }), async (edits) => {
      let cfg: unknown = VALID;
      for (const [i, v] of edits) cfg = setAt(cfg, all[i % all.length], v);
      await returnsOrInputError(() => validateConfig(cfg, 'fuzz.yaml', root));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS * 2 },
  );
});

test('fuzz: a mutated YAML or JSON config file loads or throws an InputError', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-fuzz-cfg-'));
  const abs = JSON.parse(JSON.stringify(VALID));
  abs.models[0].path = join(root, abs.models[0].path);
  abs.data.train.path = join(root, abs.data.train.path);
  abs.data.test.path = join(root, abs.data.test.path);
  const texts = { yaml: new Uint8Array(Buffer.from(stringify(abs))), json: new Uint8Array(Buffer.from(JSON.stringify(abs, null, 1))) };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('yaml', 'json' as const), mutationsArb, async (ext, ms) => {
      const p = join(dir, `c.${ext}`);
      writeFileSync(p, mutate(texts[ext as 'yaml' | 'json'], ms));
      await returnsOrInputError(() => loadConfig(p));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
});
