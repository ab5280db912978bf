/**
 * The study config of `neuroprobe run`: YAML or JSON, validated before any work starts. Unknown keys are errors
 * that name the key (with a "did you mean" hint), so a typo never silently falls back to a default.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { zodShape } from '../util/param-spec.js';
import { PROBE_PARAM_SPEC } from '../probe/params.js';
import type { ProbeParamsExt } from '../probe/linear-probe.js';
import { ANALYSIS_PROBE_DEFAULTS } from '../analysis/probe-factory.js';
import { checkConfigValues } from './config-checks.js';
import { explainSchema, sentenceTaskSchema } from './beyond-config.js';
import { interventionsSchema } from '../intervene/study.js';

const splitSchema = z
  .object({
    /** Corpus file (CoNLL-U, token file, or `brown[:files]`). */
    path: z.string().min(1),
    /** Labels file for token/label corpora. */
    labels: z.string().optional(),
    /** Keep only the first N words (cut at a sentence boundary). */
    maxTokens: z.number().int().positive().optional(),
  })
  .strict();

const modelSchema = z
  .object({
    /** Short name used in tables and file names. */
    name: z.string().min(1).optional(),
    /** Local Hugging Face folder with ONNX weights, or a hub id. */
    path: z.string().min(1),
    aggregation: z.enum(['first', 'last', 'average']).default('last'),
    layers: z.union([z.literal('all'), z.array(z.number().int().nonnegative())]).default('all'),
    dtype: z.enum(['float32', 'float16']).default('float32'),
    ffn: z.boolean().default(false),
    batchSize: z.number().int().positive().default(32),
    maxLength: z.number().int().positive().optional(),
    onnxFile: z.string().optional(),
    /** Where the forward graph comes from: auto (the checkpoint builder whenever the family is supported), safetensors, onnx. */
    source: z.enum(['auto', 'safetensors', 'onnx']).default('auto'),
    /** Seeded random weights of the same architecture (the random-weights control). */
    randomInit: z.number().int().nonnegative().optional(),
  })
  .strict();

/** The probe parameters a study sets: declared once in probe/params.ts; the study's own defaults are the analysis's. */
const STUDY_PROBE_KEYS = ['l1', 'l2', 'l2Form', 'tol', 'maxEpochs', 'maxIter', 'solver', 'engine', 'batchSize', 'learningRate'] as const;
type StudyProbeParams = Pick<ProbeParamsExt, (typeof STUDY_PROBE_KEYS)[number]>;
const probeSchema = z
  .object({
    ...zodShape(PROBE_PARAM_SPEC.filter((p) => (STUDY_PROBE_KEYS as readonly string[]).includes(p.name)), ANALYSIS_PROBE_DEFAULTS),
    // a string here: config-checks names the key and the choices (SOLVERS, from the same spec)
    solver: z.string().default('auto'),
  })
  .strict() as unknown as z.ZodType<StudyProbeParams, Partial<StudyProbeParams>>;

export const configSchema = z
  .object({
    name: z.string().default('study'),
    /** Output directory (relative to the config file); `--out` overrides. */
    out: z.string().optional(),
    seed: z.number().int().default(13),
    models: z.array(modelSchema).min(1),
    data: z
      .object({
        train: splitSchema,
        dev: splitSchema.optional(),
        test: splitSchema,
        /** Fraction of train held out as dev when no dev split is given. */
        devFraction: z.number().gt(0).lt(1).default(0.1),
        /** Dev/test labels unseen in training. */
        unknownLabels: z.enum(['error', 'drop', 'unknown']).default('drop'),
        /** Seeded undersampling of frequent classes in train. */
        balance: z.boolean().default(false),
      })
      .strict(),
    /** Task names (upos, xpos, deprel, deprel-base, feat:NAME, entity, brown, column:N, ...). A `control:T`
     * entry adds T's control task: T's analysis then reports selectivity. May be empty when `sentenceTasks` are given. */
    tasks: z.array(z.string().min(1)).default([]),
    /** How control labels are drawn. */
    control: z
      .object({ sample: z.enum(['same', 'uniform']).default('same'), caseSensitive: z.boolean().default(true) })
      .strict()
      .default({ sample: 'same', caseSensitive: true }),
    probe: probeSchema.default(probeSchema.parse({})),
    /** Ranking method for the minimal subset and ablations. */
    ranker: z.string().default('lca'),
    /** Relative margin (percent) of the minimal subset: dev accuracy ≥ oracle × (1 − δ/100), in (0, 100). */
    delta: z.number().gt(0).lt(100).default(1),
    /** Sizes (percent of all neurons) of the top/random/bottom ablations. */
    ablation: z.array(z.number().gt(0).max(100)).default([10, 15, 20]),
    /** Neurons with explorer views in the report. */
    neuronViews: z.number().int().nonnegative().default(40),
    /** Compositional explanations of each word-level task's top neurons (./beyond-config.ts). */
    explain: explainSchema.optional(),
    /** Rankers to compare on each word-level task: top-k overlap, consensus, their minimal subsets and ablations. */
    rankers: z.array(z.string().min(1)).min(1).optional(),
    /** Sentence-level tasks: one label per sentence, probed on pooled word rows (./beyond-config.ts). */
    sentenceTasks: z.array(sentenceTaskSchema).default([]),
    /** Encoded vs used: interventions inside the forward pass on the task's ranked neuron sets (src/intervene/study.ts). */
    interventions: interventionsSchema.optional(),
  })
  .strict();

export type StudyConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type SplitConfig = z.infer<typeof splitSchema>;

/** Validate a parsed config object; `source` names the file in errors. Paths are resolved against `baseDir`. */
export function validateConfig(raw: unknown, source: string, baseDir: string): StudyConfig {
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    // a typo in a key also shows up as a missing required key: report the unknown key first
    const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0];
    const path = keyPath(issue.path);
    let msg: string;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      const known = knownKeysAt(issue.path);
      const hints = keys.map((k) => {
        // a close key at this level, else the same key at another level (top-level devFraction → data.devFraction)
        const near = closest(k, known) ?? elsewhere(k, issue.path);
        return `"${path ? path + '.' : ''}${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
      });
      msg = `unknown config key ${hints.join(', ')}`;
    } else {
      msg = `invalid config value at "${path || '(root)'}": ${issue.message}`;
    }
    throw new InputError(msg, { location: { file: source } });
  }
  const cfg = r.data;
  const abs = (p: string): string => (isAbsolute(p) || p.startsWith('brown') ? p : resolve(baseDir, p));
  for (const m of cfg.models) {
    if (existsSync(resolve(baseDir, m.path))) m.path = resolve(baseDir, m.path);
    m.name ??= m.path.split(/[\\/]/).filter(Boolean).pop() ?? m.path;
  }
  const names = cfg.models.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new InputError(`two models share the name "${dup}": give each a distinct "name"`, { location: { file: source } });
  for (const s of [cfg.data.train, cfg.data.dev, cfg.data.test]) {
    if (!s) continue;
    s.path = abs(s.path);
    if (s.labels) s.labels = abs(s.labels);
  }
  if (cfg.out) cfg.out = abs(cfg.out);
  if (cfg.tasks.length === 0 && cfg.sentenceTasks.length === 0) throw new InputError('invalid config value at "tasks": no word-level tasks and no sentenceTasks', { location: { file: source } });
  const fileSpec = (l: string): string => (l.startsWith('file:') ? `file:${abs(l.slice(5).trim())}` : l);
  for (const t of cfg.sentenceTasks) t.labels = typeof t.labels === 'string' ? fileSpec(t.labels) : { train: fileSpec(t.labels.train), ...(t.labels.dev ? { dev: fileSpec(t.labels.dev) } : {}), test: fileSpec(t.labels.test) };
  // names, model folders, corpus files: all checked now, before the first extraction (./config-checks.ts)
  checkConfigValues(cfg, source);
  return cfg;
}

/** Read and validate a YAML or JSON config file. */
export function loadConfig(path: string): StudyConfig {
  if (!existsSync(path)) throw new InputError(`config file not found`, { location: { file: path } });
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const line = err instanceof YAMLParseError ? err.linePos?.[0]?.line : undefined;
    throw new InputError(`cannot parse config: ${(err as Error).message.split('\n')[0]}`, { location: { file: path, line } });
  }
  return validateConfig(raw, path, dirname(resolve(path)));
}

/** The study-wide settings every analysis of a study gets (word-level and sentence-level alike). */
export function analyzeSettings(cfg: StudyConfig) {
  return {
    delta: cfg.delta,
    ranker: cfg.ranker,
    seed: cfg.seed,
    devFraction: cfg.data.devFraction,
    ablationPercents: cfg.ablation,
    viewTopK: Math.min(cfg.neuronViews, 20),
    viewCap: cfg.neuronViews,
  };
}

/** Repository root (where assets/ lives), found from this module's location. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The embedded default study: the shipped bert-mini-en on the shipped UD EWT, five tasks + one control task. */
export function defaultConfig(): StudyConfig {
  const root = packageRoot();
  return validateConfig(
    {
      name: 'default: bert-mini-en on UD English EWT',
      models: [{ name: 'bert-mini-en', path: 'assets/models/bert-mini-en' }],
      data: {
        train: { path: 'assets/data/ud/en_ewt-ud-train.conllu', maxTokens: 20000 },
        dev: { path: 'assets/data/ud/en_ewt-ud-dev.conllu', maxTokens: 5000 },
        test: { path: 'assets/data/ud/en_ewt-ud-test.conllu', maxTokens: 10000 },
      },
      tasks: ['upos', 'xpos', 'deprel-base', 'feat:Number', 'control:xpos'],
    },
    '(embedded default config)',
    root,
  );
}

function knownKeysAt(path: PropertyKey[]): string[] {
  // walk the schema along the issue path to list the keys allowed there
  let s: z.ZodType = configSchema;
  for (const p of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(p)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    if (!s) return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** `models.1.path` as `models[1].path`. */
function keyPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** The full key of `key` (case-insensitive) at another level of the schema than `at`, e.g. `data.devFraction`. */
function elsewhere(key: string, at: PropertyKey[]): string | undefined {
  const here = at.filter((p) => typeof p !== 'number').join('.');
  const found: string[] = [];
  const walk = (s: z.ZodType, prefix: string, depth: number): void => {
    s = unwrap(s);
    if (s instanceof z.ZodArray) return walk(s.element as z.ZodType, `${prefix}[]`, depth);
    if (!(s instanceof z.ZodObject) || depth > 4) return;
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) {
      const full = prefix ? `${prefix}.${k}` : k;
      if (k.toLowerCase() === key.toLowerCase() && prefix.replace(/\[\]/g, '') !== here) found.push(full);
      walk(v, full, depth + 1);
    }
  };
  walk(configSchema, '', 0);
  return found[0];
}

function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}
