/**
 * The plotting library bundled into every report: the UMD builds of vega, vega-lite and vega-embed, read from the
 * installed packages at report-build time (no CDN).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One bundled script: package name, version and source. */
export interface BundledScript {
  name: string;
  version: string;
  file: string;
  source: string;
}

const PACKAGES: { name: string; file: string }[] = [
  { name: 'vega', file: 'build/vega.min.js' },
  { name: 'vega-lite', file: 'build/vega-lite.min.js' },
  { name: 'vega-embed', file: 'build/vega-embed.min.js' },
];

let cache: BundledScript[] | null = null;

/** Directory of an installed package, found from its resolved entry point (package `exports` hide deep paths). */
export function packageDir(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const meta = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string };
      if (meta.name === name) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package directory of ${name}`);
    dir = up;
  }
}

/** The three scripts, in load order (vega, vega-lite, vega-embed); read once per process. */
export function bundledScripts(): BundledScript[] {
  if (cache) return cache;
  cache = PACKAGES.map(({ name, file }) => {
    const dir = packageDir(name);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    return { name, version, file, source: readFileSync(join(dir, file), 'utf8') };
  });
  return cache;
}
