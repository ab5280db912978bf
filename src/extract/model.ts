/**
 * Resolve a model given as a local Hugging Face directory or a hub id to the files extraction needs:
 * `config.json`, `tokenizer.json`, `tokenizer_config.json` (optional) and an ONNX graph (`onnx/model.onnx` or a
 * named variant). Hub ids are looked up in the Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`,
 * `~/.cache/huggingface/hub`: `models--org--name/snapshots/<rev>/...`) and in transformers.js-style cache folders
 * (`<dir>/org/name/...`), and downloaded into the HF cache when the network is allowed.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';

/** A model folder with every file extraction needs. */
export interface ResolvedModel {
  /** What the user named (path or hub id). */
  id: string;
  /** The folder holding the files. */
  dir: string;
  configPath: string;
  tokenizerPath: string;
  /** tokenizer_config.json, when present (it is optional). */
  tokenizerConfigPath?: string;
  onnxPath: string;
  /** Parsed config.json. */
  config: Record<string, unknown>;
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig: Record<string, unknown>;
}

/** Options for {@link resolveModel}. */
export interface ResolveOptions {
  /** ONNX file name inside `onnx/` (or the folder itself), default `model.onnx`. */
  onnxFile?: string;
  /** Never touch the network (also `NEUROPROBE_OFFLINE=1` or `HF_HUB_OFFLINE=1`). */
  offline?: boolean;
  /** Extra cache roots to search first (HF hub layout or transformers.js layout). */
  cacheDirs?: string[];
  /** Hub base URL (default https://huggingface.co, or `$HF_ENDPOINT`). */
  endpoint?: string;
  /** Injected fetch (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** Is `spec` shaped like a hub id (`org/name` or `name`) rather than a path? */
export function looksLikeHubId(spec: string): boolean {
  return HUB_ID.test(spec) && !spec.startsWith('.') && !existsSync(spec);
}

/** Files a model folder must have, relative to it, for a given ONNX file name. */
export function requiredFiles(onnxFile = 'model.onnx'): string[] {
  return ['config.json', 'tokenizer.json', onnxFile.includes('/') ? onnxFile : `onnx/${onnxFile}`];
}

function readJson(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`cannot parse ${path}: ${(err as Error).message}`, { location: { file: path }, expected: 'a JSON object' });
  }
}

/** Locate the ONNX file in a folder: `onnx/<name>`, then `<name>` at the top. */
function findOnnx(dir: string, onnxFile: string): string | undefined {
  for (const p of [join(dir, 'onnx', onnxFile), join(dir, onnxFile)]) if (existsSync(p)) return p;
  return undefined;
}

/**
 * Check a local model folder and load its configs. Missing files → InputError naming the file expected.
 */
export function loadModelDir(dir: string, id: string, onnxFile = 'model.onnx'): ResolvedModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(`model folder ${dir} does not exist`, { location: { file: dir }, expected: 'a Hugging Face model folder' });
  }
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new InputError(`model ${id} has no config.json`, { location: { file: configPath }, expected: 'config.json (Hugging Face model config)' });
  }
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    throw new InputError(`model ${id} has no tokenizer: ${tokenizerPath} is missing`, {
      location: { file: tokenizerPath },
      expected: 'tokenizer.json (a fast-tokenizer file saved by Hugging Face tokenizers/transformers)',
    });
  }
  const onnxPath = findOnnx(dir, onnxFile);
  if (!onnxPath) {
    const p = join(dir, 'onnx', onnxFile);
    let have = '';
    if (existsSync(join(dir, 'onnx'))) {
      const list = readdirSync(join(dir, 'onnx')).filter((f) => f.endsWith('.onnx'));
      if (list.length) have = `; onnx/ holds ${list.join(', ')} (choose one with --onnx-file)`;
    }
    throw new InputError(`model ${id} has no ONNX graph ${p}${have}`, { location: { file: p }, expected: `onnx/${onnxFile} (export the model with optimum or transformers.js tooling)` });
  }
  const tcPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfigPath = existsSync(tcPath) ? tcPath : undefined;
  return {
    id,
    dir,
    configPath,
    tokenizerPath,
    tokenizerConfigPath,
    onnxPath,
    config: readJson(configPath),
    tokenizerConfig: tokenizerConfigPath ? readJson(tokenizerConfigPath) : {},
  };
}

/** Cache roots searched for a hub id, in order. */
export function cacheRoots(opts: ResolveOptions = {}): { hf: string[]; flat: string[] } {
  const env = opts.env ?? process.env;
  const hf: string[] = [];
  const flat: string[] = [...(opts.cacheDirs ?? [])];
  if (env.HF_HUB_CACHE) hf.push(env.HF_HUB_CACHE);
  if (env.HF_HOME) hf.push(join(env.HF_HOME, 'hub'));
  hf.push(join(homedir(), '.cache', 'huggingface', 'hub'));
  if (env.TRANSFORMERS_CACHE) flat.push(env.TRANSFORMERS_CACHE);
  if (env.NEUROPROBE_CACHE) flat.push(join(env.NEUROPROBE_CACHE, 'models'));
  flat.push(join(homedir(), '.cache', 'neuroprobe', 'models'));
  flat.push(resolve('node_modules', '@huggingface', 'transformers', '.cache'));
  // cacheDirs given explicitly may use either layout
  return { hf: [...(opts.cacheDirs ?? []), ...hf], flat };
}

/** The snapshot folders of `id` in an HF hub cache root, the `refs/main` one first. */
function hfSnapshots(root: string, id: string): string[] {
  const base = join(root, `models--${id.replace(/\//g, '--')}`);
  const snaps = join(base, 'snapshots');
  if (!existsSync(snaps)) return [];
  const out: string[] = [];
  const ref = join(base, 'refs', 'main');
  if (existsSync(ref)) out.push(join(snaps, readFileSync(ref, 'utf8').trim()));
  for (const d of readdirSync(snaps).sort()) if (!out.includes(join(snaps, d))) out.push(join(snaps, d));
  return out;
}

function isOffline(opts: ResolveOptions): boolean {
  const env = opts.env ?? process.env;
  const on = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return Boolean(opts.offline) || on(env.NEUROPROBE_OFFLINE) || on(env.HF_HUB_OFFLINE) || on(env.TRANSFORMERS_OFFLINE);
}

function hasAll(dir: string, onnxFile: string): boolean {
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'tokenizer.json')) && findOnnx(dir, onnxFile) !== undefined;
}

/**
 * Resolve `spec` (a folder or a hub id) to a complete model folder. A hub id not in any cache is downloaded
 * into `$HF_HOME/hub` (atomically per file) unless offline; otherwise an InputError names the id, the paths
 * checked and the switch to change.
 */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const onnxFile = opts.onnxFile ?? 'model.onnx';
  if (!looksLikeHubId(spec)) return loadModelDir(resolve(spec), spec, onnxFile);
  const roots = cacheRoots(opts);
  const checked: string[] = [];
  for (const root of roots.hf) {
    const snaps = hfSnapshots(root, spec);
    if (!snaps.length) checked.push(join(root, `models--${spec.replace(/\//g, '--')}`));
    for (const s of snaps) {
      checked.push(s);
      if (hasAll(s, onnxFile)) return loadModelDir(s, spec, onnxFile);
    }
  }
  for (const root of roots.flat) {
    const d = join(root, ...spec.split('/'));
    checked.push(d);
    if (hasAll(d, onnxFile)) return loadModelDir(d, spec, onnxFile);
  }
  if (isOffline(opts)) {
    throw new InputError(
      `model ${spec} is not a local folder and is not in any cache, and downloads are off (--offline / NEUROPROBE_OFFLINE / HF_HUB_OFFLINE); checked: ${checked.join(', ')}`,
      { expected: 'a local model folder, a cached hub id, or network access without --offline' },
    );
  }
  return downloadModel(spec, hubCacheForDownload(opts), onnxFile, opts, checked);
}

function hubCacheForDownload(opts: ResolveOptions): string {
  const env = opts.env ?? process.env;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** Download the files of `id` into the HF hub cache layout and load them. */
async function downloadModel(id: string, root: string, onnxFile: string, opts: ResolveOptions, checked: string[]): Promise<ResolvedModel> {
  const env = opts.env ?? process.env;
  const endpoint = (opts.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const f = opts.fetch ?? fetch;
  const base = join(root, `models--${id.replace(/\//g, '--')}`);
  const headers: Record<string, string> = {};
  if (env.HF_TOKEN) headers.authorization = `Bearer ${env.HF_TOKEN}`;
  const files: Array<{ name: string; optional: boolean }> = [
    { name: 'config.json', optional: false },
    { name: 'tokenizer.json', optional: false },
    { name: 'tokenizer_config.json', optional: true },
    { name: `onnx/${onnxFile}`, optional: false },
  ];
  let rev = 'main';
  const got: Array<{ name: string; data: Uint8Array }> = [];
  for (const file of files) {
    const url = `${endpoint}/${id}/resolve/main/${file.name}`;
    let res: Response;
    try {
      res = await f(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new InputError(
        `model ${id} is not cached and downloading ${url} failed (${(err as Error).message}); checked: ${checked.join(', ')}; use a local folder or set --offline to skip the download`,
        { expected: 'network access to the Hugging Face hub, or a cached copy' },
      );
    }
    if (!res.ok) {
      if (file.optional) continue;
      throw new InputError(
        `model ${id}: ${url} answered HTTP ${res.status}${res.status === 404 || res.status === 401 ? ' (unknown id, private model, or no ONNX export: try --onnx-file)' : ''}; checked: ${checked.join(', ')}`,
        { expected: `a hub model with ${file.name}` },
      );
    }
    const commit = res.headers.get('x-repo-commit');
    if (commit && /^[0-9a-f]{40}$/.test(commit)) rev = commit;
    got.push({ name: file.name, data: new Uint8Array(await res.arrayBuffer()) });
  }
  const snap = join(base, 'snapshots', rev);
  for (const g of got) writeFileAtomic(join(snap, ...g.name.split('/')), g.data);
  writeFileAtomic(join(base, 'refs', 'main'), rev);
  return loadModelDir(snap, id, onnxFile);
}
