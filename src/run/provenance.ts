/**
 * A study's provenance for results.json: neuroprobe's version, the seed, the full resolved config, and for each
 * model and corpus where it came from and the SHA-256 of its bytes. It depends only on the inputs (no times, no
 * machine facts), so results.json stays deterministic.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { ModelConfig, StudyConfig } from './config.js';
import { packageRoot } from './config.js';
import type { CorpusProvenance, ModelProvenance, Provenance } from '../report/types.js';
import type { ActivationMeta } from '../store/types.js';
import { hashFile, sha256 } from '../util/hash.js';
import { openStore } from '../store/store.js';

/** neuroprobe's version, from its package.json. */
export function neuroprobeVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * Weights files of a model folder, relative to it: the ONNX graph that ran (`onnx`, absolute) with its external data
 * when given, else every ONNX graph in `onnx/`; plus the safetensors / PyTorch weights in the folder when the model
 * ran from those (`source`) or no graph is known.
 */
export function weightFiles(dir: string, onnx?: string, source?: string): string[] {
  const list = (d: string): string[] => {
    try {
      return readdirSync(d).sort().filter((n) => statSync(join(d, n)).isFile());
    } catch {
      return [];
    }
  };
  const rel = (p: string): string => relative(dir, p).split(sep).join('/');
  const out: string[] = [];
  if (onnx && source !== 'safetensors') {
    const base = onnx.split(/[\\/]/).pop()!;
    out.push(rel(onnx));
    for (const n of list(dirname(onnx))) if (n !== base && n.startsWith(base) && /(_data|\.data)$/.test(n)) out.push(rel(join(dirname(onnx), n)));
  } else if (!onnx && source !== 'safetensors') {
    for (const n of list(join(dir, 'onnx'))) if (/\.onnx(_data|\.data)?$/.test(n)) out.push(`onnx/${n}`);
  }
  if (source === 'safetensors' || !onnx) for (const n of list(dir)) if (/\.(safetensors|bin)$/.test(n)) out.push(n);
  return out;
}

/**
 * Provenance of one model: `meta` is the metadata its extraction stored (the resolved ONNX path, the family and,
 * when the extractor records them, the source route and hub revision).
 */
export function modelProvenance(m: ModelConfig, meta: ActivationMeta | undefined): ModelProvenance {
  const extra = (meta?.extra ?? {}) as Record<string, unknown>;
  const onnx = typeof extra.onnx === 'string' ? extra.onnx : undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  // the folder: parent of onnx/<file> when the extractor says where the graph was; else the configured path
  let dir = m.path;
  if (onnx) dir = dirname(onnx).endsWith(`${sep}onnx`) || dirname(onnx).endsWith('/onnx') ? dirname(dirname(onnx)) : dirname(onnx);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    /* no config.json: fields stay unset */
  }
  const files: Record<string, string> = {};
  const source = str(extra.source) ?? str(extra.route);
  for (const f of weightFiles(dir, onnx, source)) files[f] = hashFile(join(dir, f));
  const isHub = !existsSync(m.path);
  const revision = str(extra.revision) ?? str((extra.hub as { revision?: unknown } | undefined)?.revision);
  const out: ModelProvenance = {
    name: m.name ?? m.path,
    spec: m.path,
    path: dir,
    ...(isHub ? { hub: { id: m.path, ...(revision ? { revision } : {}) } } : {}),
    ...(str(extra.modelType) ?? str(config.model_type) ? { modelType: str(extra.modelType) ?? str(config.model_type) } : {}),
    ...(str(extra.family) ? { family: str(extra.family) } : {}),
    ...(source ? { source } : onnx ? { source: 'onnx' } : {}),
    dtype: m.dtype,
    ...(str(extra.weightsDtype) ?? str(config.torch_dtype) ?? str(config.dtype) ? { weightsDtype: str(extra.weightsDtype) ?? str(config.torch_dtype) ?? str(config.dtype) } : {}),
    ...(extra.randomInit !== undefined ? { randomInit: extra.randomInit } : {}),
    weightFiles: files,
    weightsSha256: sha256(Object.values(files).sort().join('\n')),
  };
  return out;
}

/** The activation metadata a finished extraction stored (undefined if it cannot be read). */
function storedMeta(dir: string | undefined): ActivationMeta | undefined {
  if (!dir) return undefined;
  try {
    const st = openStore(dir);
    try {
      return st.meta;
    } finally {
      st.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The study's provenance, from the config, each model's extracted stores (the train store's metadata says where the
 * model's files were) and each split's corpus SHA-256 (as computed for the stage keys).
 */
export function studyProvenance(
  cfg: StudyConfig,
  stores: Map<string, { train?: { dir: string } } | undefined>,
  splits: { train: { checksum: string }; dev?: { checksum: string }; test: { checksum: string } },
): Provenance {
  const corpora: CorpusProvenance[] = [];
  for (const split of ['train', 'dev', 'test'] as const) {
    const c = cfg.data[split];
    const sum = splits[split]?.checksum;
    if (!c || !sum) continue;
    corpora.push({ split, path: c.path, sha256: sum, ...(c.maxTokens !== undefined ? { maxTokens: c.maxTokens } : {}) });
  }
  const { out: _out, ...config } = cfg; // where results go is not an input
  return {
    neuroprobe: neuroprobeVersion(),
    seed: cfg.seed,
    models: cfg.models.map((m) => modelProvenance(m, storedMeta(stores.get(m.name!)?.train?.dir))),
    corpora,
    config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
  };
}
