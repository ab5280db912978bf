/**
 * Checks of a study config's values that its schema cannot express, run by `validateConfig` before any work: every
 * ranker name, task name and probe solver, every model path (a folder with config.json, tokenizer.json and weights:
 * an ONNX export or a safetensors checkpoint; hub ids are resolved when the study runs), and every corpus and label
 * file. Each error names the config key (`models[1].path`), so a typo in the second model is reported before the
 * first one is extracted.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { getTask } from '../data/tasks.js';
import { parseBrownSpec } from '../data/brown.js';
import { RANKER_NAMES } from '../rank/registry.js';
import { SOLVERS } from '../probe/linear-probe.js';

/** The parts of a validated config these checks read. */
export interface CheckedConfig {
  models: { path: string; onnxFile?: string; source?: string; randomInit?: number }[];
  data: { train: SplitPaths; dev?: SplitPaths; test: SplitPaths };
  tasks: string[];
  ranker: string;
  rankers?: string[];
  probe: { solver: string };
  sentenceTasks?: { labels: string | { train: string; dev?: string; test: string } }[];
}

interface SplitPaths {
  path: string;
  labels?: string;
}

/** Throw an InputError naming `key` and the config file. */
function fail(source: string, key: string, message: string, expected?: string): never {
  throw new InputError(`invalid config value at "${key}": ${message}`, { location: { file: source }, expected });
}

/** Run every check (see the module comment); `source` names the config file in errors. */
export function checkConfigValues(cfg: CheckedConfig, source: string): void {
  const rankerHint = (name: string): string => {
    const near = closestName(name, RANKER_NAMES);
    return `unknown ranker '${name}'${near ? ` (did you mean '${near}'?)` : ''}`;
  };
  if (!RANKER_NAMES.includes(cfg.ranker)) fail(source, 'ranker', rankerHint(cfg.ranker), `one of ${RANKER_NAMES.join(', ')}`);
  cfg.rankers?.forEach((r, i) => {
    if (!RANKER_NAMES.includes(r)) fail(source, `rankers[${i}]`, rankerHint(r), `one of ${RANKER_NAMES.join(', ')}`);
  });
  if (!(SOLVERS as readonly string[]).includes(cfg.probe.solver)) fail(source, 'probe.solver', `unknown solver '${cfg.probe.solver}'`, `one of ${SOLVERS.join(', ')}`);
  cfg.tasks.forEach((t, i) => {
    try {
      getTask(t);
    } catch (err) {
      if (err instanceof InputError) fail(source, `tasks[${i}]`, err.message);
      throw err;
    }
  });
  cfg.models.forEach((m, i) => checkModelPath(m, `models[${i}].path`, source));
  for (const split of ['train', 'dev', 'test'] as const) {
    const s = cfg.data[split];
    if (!s) continue;
    if (parseBrownSpec(s.path) === undefined) checkFile(s.path, `data.${split}.path`, source, 'corpus');
    if (s.labels !== undefined) checkFile(s.labels, `data.${split}.labels`, source, 'label file');
  }
  cfg.sentenceTasks?.forEach((t, i) => {
    const specs: [string, string][] = typeof t.labels === 'string' ? [[`sentenceTasks[${i}].labels`, t.labels]] : Object.entries(t.labels).filter(([, v]) => v !== undefined).map(([k, v]) => [`sentenceTasks[${i}].labels.${k}`, v as string]);
    for (const [key, spec] of specs) if (spec.startsWith('file:')) checkFile(spec.slice(5).trim(), key, source, 'label file');
  });
}

function checkFile(path: string, key: string, source: string, what: string): void {
  if (!existsSync(path)) fail(source, key, `${what} ${path} does not exist`, 'an existing file (relative paths are relative to the config file)');
  if (!statSync(path).isFile()) fail(source, key, `${what} ${path} is not a file`, 'a file, not a folder');
}

/** A hub id (`org/name` or `name`) rather than a path: resolved (cache or download) when the study runs. */
const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/**
 * A model path must be a folder with config.json, tokenizer.json and weights: an ONNX export (`onnx/<onnxFile>` or
 * `<onnxFile>`) or a Hugging Face checkpoint (`model.safetensors` or `model.safetensors.index.json`). A path that
 * does not exist and is shaped like a hub id is left to the model resolver (cache, then download).
 */
export function checkModelPath(m: { path: string; onnxFile?: string; randomInit?: number }, key: string, source: string): void {
  const p = m.path;
  if (!existsSync(p)) {
    if (HUB_ID.test(p) && !p.startsWith('.')) return;
    fail(source, key, `model folder ${p} does not exist`, 'a model folder (relative paths are relative to the config file) or a hub id such as bert-base-cased');
  }
  if (!statSync(p).isDirectory()) fail(source, key, `model path ${p} is a file`, 'a model folder with config.json, tokenizer.json and weights');
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(p, f))) fail(source, key, `model folder ${p} has no ${f}`, 'a Hugging Face model folder with config.json and tokenizer.json');
  }
  // seeded random weights of the same architecture need only its config and tokenizer
  if (m.randomInit !== undefined) return;
  const onnx = m.onnxFile ?? 'model.onnx';
  const weights = [join('onnx', onnx), onnx, 'model.safetensors', 'model.safetensors.index.json'];
  if (!weights.some((w) => existsSync(join(p, w)))) {
    fail(source, key, `model folder ${p} has no weights`, `one of ${weights.join(', ')}`);
  }
}

/** The closest of `names` to `word` by edit distance, when close enough to be a typo. */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of names) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}
