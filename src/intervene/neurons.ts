/**
 * Neuron sets for interventions: parsing `--neurons` (ids, `ranking.json:top:N` / `:bottom:N`, `none`), mapping
 * neuron ids onto the built graph's sites, seeded random sets of the same size, and the `mul` / `add` vectors that a
 * mode (zero / mean / value:X / scale:X) gives each opened site.
 *
 * Ids follow neuroprobe's convention: without `--site`, `layer * width + unit` over the residual stream, layer 0 =
 * `embeddings`, layer l = `blocks.{l-1}.hook_resid_post`. With `--site S`, ids are S's own units (0..width-1), as in
 * a ranking computed from S's activations alone.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Site } from '../models/graph.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** How the chosen neurons are changed. */
export type InterventionMode = { kind: 'zero' } | { kind: 'mean' } | { kind: 'value'; value: number } | { kind: 'scale'; factor: number };

/** Parse `zero | mean | value:X | scale:X`. */
export function parseMode(text: string): InterventionMode {
  const t = text.trim();
  if (t === 'zero') return { kind: 'zero' };
  if (t === 'mean') return { kind: 'mean' };
  const m = /^(value|scale):(.+)$/.exec(t);
  const x = m ? Number(m[2]) : NaN;
  if (!m || m[2].trim() === '' || !Number.isFinite(x)) throw new InputError(`--mode ${JSON.stringify(text)} is not a mode`, { expected: 'zero, mean, value:X or scale:X with X a finite number' });
  return m[1] === 'value' ? { kind: 'value', value: x } : { kind: 'scale', factor: x };
}

export function modeName(m: InterventionMode): string {
  return m.kind === 'value' ? `value:${m.value}` : m.kind === 'scale' ? `scale:${m.factor}` : m.kind;
}

/** The sites neuron ids refer to: the residual stream (embeddings + every hook_resid_post, in layer order) or one site. */
export interface NeuronSpace {
  sites: Site[];
  /** Width of every site (ids are `index * width + unit`). */
  width: number;
  /** Number of neurons. */
  size: number;
}

/** The id space over `sites` (the graph's sites): the residual stream, or the one named site. */
export function neuronSpace(sites: readonly Site[], site?: string): NeuronSpace {
  if (site !== undefined) {
    const s = sites.find((x) => x.name === site);
    if (!s) throw new InputError(`--site ${site} is not a site of this model`, { expected: `one of ${sites.map((x) => x.name).join(', ')}` });
    return { sites: [s], width: s.width, size: s.width };
  }
  const stream = sites.filter((s) => s.kind === 'embeddings' || s.kind === 'resid_post').sort((a, b) => a.layer - b.layer);
  if (!stream.length) throw new InputError('the model has no residual-stream sites', { expected: 'embeddings and blocks.{l}.hook_resid_post sites' });
  const width = stream[0].width;
  // a final site of another width (OPT's project_out) ends the uniform id space
  const uniform = stream.filter((s) => s.width === width);
  return { sites: uniform, width, size: uniform.length * width };
}

/** Units per site name for a set of ids. */
export function idsToSites(ids: readonly number[], space: NeuronSpace): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= space.size) {
      throw new InputError(`neuron id ${id} is out of range`, { expected: `integers in 0..${space.size - 1} (layer * ${space.width} + unit over ${space.sites.map((s) => s.name).join(', ')})` });
    }
    const s = space.sites[Math.floor(id / space.width)];
    const list = out.get(s.name) ?? [];
    list.push(id % space.width);
    out.set(s.name, list);
  }
  return out;
}

/** A neuron ordering from a ranking file: `rank --json`'s `ordering`, an analysis result's `ranking.ordering`, or a bare array. */
export function readOrdering(file: string): number[] {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`ranking file ${file} does not exist`, { location: { file }, expected: 'a JSON file with an "ordering" array (neuroprobe rank --json)' });
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`ranking file ${file} is not JSON: ${(err as Error).message}`, { location: { file }, expected: 'a JSON file with an "ordering" array' });
  }
  const o = j as { ordering?: unknown; ranking?: { ordering?: unknown } };
  const ord = Array.isArray(j) ? j : Array.isArray(o.ordering) ? o.ordering : Array.isArray(o.ranking?.ordering) ? o.ranking?.ordering : undefined;
  if (!Array.isArray(ord) || !ord.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new InputError(`ranking file ${file} has no neuron ordering`, { location: { file }, expected: 'an "ordering" (or "ranking": {"ordering"}) array of non-negative integer neuron ids' });
  }
  return ord as number[];
}

/** Parse `--neurons`: `none`, `3,17,40-45`, or `FILE:top:N` / `FILE:bottom:N`. */
export function parseNeurons(spec: string): number[] {
  const t = spec.trim();
  if (t === 'none' || t === '') return [];
  const m = /^(.*):(top|bottom):(\d+)$/.exec(t);
  if (m) {
    const ord = readOrdering(m[1]);
    const n = Number(m[3]);
    if (n > ord.length) throw new InputError(`--neurons ${spec}: the ranking has only ${ord.length} neurons`, { location: { file: m[1] }, expected: `N <= ${ord.length}` });
    return m[2] === 'top' ? ord.slice(0, n) : ord.slice(ord.length - n).reverse();
  }
  const ids: number[] = [];
  for (const part of t.split(',')) {
    const r = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!r) throw new InputError(`--neurons: ${JSON.stringify(part)} is not a neuron id`, { expected: 'none, comma-separated ids or ranges (3,17,40-45), or ranking.json:top:N' });
    const a = Number(r[1]);
    const b = r[2] !== undefined ? Number(r[2]) : a;
    if (b < a) throw new InputError(`--neurons: range ${part.trim()} is empty`, { expected: 'a range low-high with low <= high' });
    for (let i = a; i <= b; i++) ids.push(i);
  }
  if (new Set(ids).size !== ids.length) throw new InputError(`--neurons ${spec}: an id is listed twice`, { expected: 'distinct neuron ids' });
  return ids;
}

/** `k` seeded random sets of `n` distinct ids from `0..size-1`, avoiding none (sorted within a set). */
export function randomSets(k: number, n: number, size: number, seed: number): number[][] {
  if (n > size) throw new InputError(`a random set of ${n} neurons is larger than the ${size} available`, { expected: `a size <= ${size}` });
  const rng = new Rng(seed);
  const out: number[][] = [];
  for (let i = 0; i < k; i++) {
    // partial Fisher-Yates over an index array
    const idx = Int32Array.from({ length: size }, (_, j) => j);
    for (let j = 0; j < n; j++) {
      const r = j + rng.int(size - j);
      const t = idx[j];
      idx[j] = idx[r];
      idx[r] = t;
    }
    out.push(Array.from(idx.subarray(0, n)).sort((a, b) => a - b));
  }
  return out;
}

/** The `mul` / `add` input vectors of every opened site (mul 1, add 0 where untouched). */
export type SiteVectors = Map<string, { mul: Float32Array; add: Float32Array }>;

/** Identity vectors for the opened sites. */
export function identityVectors(opened: readonly Site[]): SiteVectors {
  return new Map(opened.map((s) => [s.name, { mul: new Float32Array(s.width).fill(1), add: new Float32Array(s.width) }]));
}

/**
 * The vectors for intervening on `ids` with `mode`: zero → mul 0; mean → mul 0, add = the site's corpus mean
 * (`means`, required); value:X → mul 0, add X; scale:X → mul X.
 */
export function interventionVectors(opened: readonly Site[], space: NeuronSpace, ids: readonly number[], mode: InterventionMode, means?: Map<string, Float32Array>): SiteVectors {
  const v = identityVectors(opened);
  for (const [site, units] of idsToSites(ids, space)) {
    const s = v.get(site);
    if (!s) throw new Error(`site ${site} is not opened for interventions`);
    const mean = mode.kind === 'mean' ? means?.get(site) : undefined;
    if (mode.kind === 'mean' && !mean) throw new Error(`no corpus mean for site ${site}`);
    for (const u of units) {
      if (mode.kind === 'scale') s.mul[u] = mode.factor;
      else {
        s.mul[u] = 0;
        s.add[u] = mode.kind === 'value' ? mode.value : mode.kind === 'mean' ? (mean as Float32Array)[u] : 0;
      }
    }
  }
  return v;
}
