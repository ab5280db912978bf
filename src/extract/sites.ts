/**
 * Site names and the one site filter shared by both routes (ONNX surgery and the checkpoint builder).
 *
 * Sites (docs/extraction.md): `embeddings`, `blocks.{l}.hook_resid_post`, `blocks.{l}.mlp.hook_pre`,
 * `blocks.{l}.mlp.hook_pre_linear`, `blocks.{l}.mlp.hook_post`. Layer order = the order the forward pass computes them:
 * `embeddings`, then per block l: `mlp.hook_pre`, `mlp.hook_pre_linear`, `mlp.hook_post`, `hook_resid_post`.
 */
import { InputError } from '../util/errors.js';

/** Anything with a site name. */
export interface Named {
  name: string;
}

const KIND_RANK: Record<string, number> = { 'mlp.hook_pre': 0, 'mlp.hook_pre_linear': 1, 'mlp.hook_post': 2, hook_resid_post: 3 };

/** Sort key of a site name in layer order; null for names outside the scheme. */
export function siteOrder(name: string): [number, number] | null {
  if (name === 'embeddings') return [-1, 0];
  const m = /^blocks\.(\d+)\.(hook_resid_post|mlp\.hook_pre|mlp\.hook_pre_linear|mlp\.hook_post)$/.exec(name);
  return m ? [Number(m[1]), KIND_RANK[m[2]]] : null;
}

/** Order sites as the forward pass computes them (names outside the scheme keep their place after the others). */
export function sortSites<T extends Named>(sites: readonly T[]): T[] {
  const keyed = sites.map((s, i) => ({ s, i, k: siteOrder(s.name) }));
  keyed.sort((a, b) => {
    if (a.k && b.k) return a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.i - b.i;
    if (a.k) return -1;
    if (b.k) return 1;
    return a.i - b.i;
  });
  return keyed.map((x) => x.s);
}

/** True when the pattern is a glob (`*` any run of characters, `?` one character). */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Split a `--sites` value (comma-separated names or globs) into patterns. */
export function parseSitePatterns(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Options of {@link filterSites}. */
export interface FilterSitesOptions {
  /** Non-glob names that are not sites but that the caller accepts (e.g. raw graph tensors): skipped here, not an error. */
  extra?: (pattern: string) => boolean;
  /** File named in errors. */
  file?: string;
}

/**
 * The sites of `available` that the patterns (names or globs: `blocks.*.mlp.hook_post`, `blocks.1?.hook_resid_post`)
 * select, each once, in layer order. Throws InputError for a pattern that selects nothing.
 */
export function filterSites<T extends Named>(available: readonly T[], patterns: readonly string[], opts: FilterSitesOptions = {}): T[] {
  const picked = new Set<T>();
  for (const p of patterns) {
    const re = isGlob(p) ? globRegExp(p) : null;
    const hits = available.filter((s) => (re ? re.test(s.name) : s.name === p));
    if (!hits.length) {
      if (!re && opts.extra?.(p)) continue;
      const names = available.map((s) => s.name);
      const shown = names.length > 8 ? [...names.slice(0, 4), '…', ...names.slice(-3)] : names;
      throw new InputError(`--sites: ${p} matches no site of this model`, {
        location: opts.file ? { file: opts.file } : undefined,
        expected: `site names or globs among ${shown.join(', ') || '(none)'}, e.g. 'blocks.*.mlp.hook_post'`,
      });
    }
    for (const h of hits) picked.add(h);
  }
  return sortSites(available.filter((s) => picked.has(s)));
}
