/**
 * Resolve a model given as a local Hugging Face directory or a hub id to the files extraction needs:
 * `config.json`, `tokenizer.json`, `tokenizer_config.json` (optional) and an ONNX graph (`onnx/model.onnx` or a
 * named variant). Hub ids are looked up in the Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`,
 * `~/.cache/huggingface/hub`: `models--org--name/snapshots/<rev>/...`) and in transformers.js-style cache folders
 * (`<dir>/org/name/...`), and downloaded into the HF cache when the network is allowed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { AtomicFile, writeFileAtomic } from '../util/atomic.js';
import { checkpointFiles } from '../models/checkpoint.js';
import { familyFor } from '../models/build.js';

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
  /** The ONNX graph, when the folder has one (`onnx/model.onnx` or the named variant). */
  onnxPath?: string;
  /** The safetensors weight files (one file, or the shards of `model.safetensors.index.json`), when present. */
  weightFiles?: string[];
  /** Parsed config.json. */
  config: Record<string, unknown>;
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig: Record<string, unknown>;
}

/** Options for {@link resolveModel}. */
export interface ResolveOptions {
  /** ONNX file name inside `onnx/` (or the folder itself), default `model.onnx`. */
  onnxFile?: string;
  /** Which weights a hub download fetches: `auto` (safetensors when the family has a builder), `safetensors`, `onnx`. */
  source?: ModelSource;
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

/** Where a model's forward graph comes from: built from the checkpoint, or an ONNX export. */
export type ModelSource = 'auto' | 'safetensors' | 'onnx';

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
  const weightFiles = checkpointFiles(dir);
  if (!onnxPath && !weightFiles) {
    const p = join(dir, 'onnx', onnxFile);
    let have = '';
    if (existsSync(join(dir, 'onnx'))) {
      const list = readdirSync(join(dir, 'onnx')).filter((f) => f.endsWith('.onnx'));
      if (list.length) have = `; onnx/ holds ${list.join(', ')} (choose one with --onnx-file)`;
    }
    throw new InputError(`model ${id} has no weights: neither model.safetensors (or model.safetensors.index.json) nor ${p}${have}`, {
      location: { file: dir },
      expected: 'a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json) or an ONNX export in onnx/',
    });
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
    weightFiles,
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
  if (!existsSync(join(dir, 'config.json')) || !existsSync(join(dir, 'tokenizer.json'))) return false;
  try {
    return findOnnx(dir, onnxFile) !== undefined || checkpointFiles(dir) !== undefined;
  } catch {
    return false;
  }
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
  let rev = 'main';
  // stream every file into a staging folder first (AtomicFile: temp + rename), publish only when all arrived
  const staging = join(base, `.incoming-${process.pid}`);
  const got: string[] = [];
  const fetchFile = async (name: string, optional: boolean): Promise<boolean> => {
    const url = `${endpoint}/${id}/resolve/main/${name}`;
    let res: Response;
    try {
      res = await f(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new InputError(
        `model ${id} is not cached and downloading ${url} failed (${(err as Error).message}); checked: ${checked.join(', ')}; use a local model folder or a cached copy, or pass --offline to never try the network`,
        { expected: 'network access to the Hugging Face hub, or a cached copy' },
      );
    }
    if (!res.ok) {
      if (optional) return false;
      throw new InputError(
        `model ${id}: ${url} answered HTTP ${res.status}${res.status === 404 || res.status === 401 ? ' (unknown id, private model, or no such file: try --source or --onnx-file)' : ''}; checked: ${checked.join(', ')}`,
        { expected: `a hub model with ${name}` },
      );
    }
    const commit = res.headers.get('x-repo-commit');
    if (commit && /^[0-9a-f]{40}$/.test(commit)) rev = commit;
    const out = new AtomicFile(join(staging, ...name.split('/')));
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          out.write(value);
        }
      } else out.write(new Uint8Array(await res.arrayBuffer()));
      out.commit();
    } catch (err) {
      out.abort();
      throw new InputError(`model ${id}: download of ${url} broke off (${(err as Error).message})`, { expected: 'a complete download; run again' });
    }
    got.push(name);
    return true;
  };
  try {
    await fetchFile('config.json', false);
    await fetchFile('tokenizer.json', false);
    await fetchFile('tokenizer_config.json', true);
    const config = readJson(join(staging, 'config.json'));
    const source = opts.source ?? 'auto';
    const wantCheckpoint = source === 'safetensors' || (source === 'auto' && familyFor(String(config.model_type ?? '')) !== undefined);
    let haveWeights = false;
    if (wantCheckpoint) {
      if (await fetchFile('model.safetensors.index.json', true)) {
        const map = (readJson(join(staging, 'model.safetensors.index.json')).weight_map ?? {}) as Record<string, string>;
        for (const shard of [...new Set(Object.values(map))].sort()) await fetchFile(shard, false);
        haveWeights = true;
      } else haveWeights = await fetchFile('model.safetensors', source !== 'safetensors');
    }
    if (!haveWeights) {
      await fetchFile(`onnx/${onnxFile}`, false);
      await fetchFile(`onnx/${onnxFile}_data`, true); // external weights of large exports
    }
    const snap = join(base, 'snapshots', rev);
    for (const name of got) {
      const to = join(snap, ...name.split('/'));
      mkdirSync(dirname(to), { recursive: true });
      renameSync(join(staging, ...name.split('/')), to);
    }
    writeFileAtomic(join(base, 'refs', 'main'), rev);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const snap = join(base, 'snapshots', rev);
  return loadModelDir(snap, id, onnxFile);
}
