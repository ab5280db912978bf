/**
 * Benchmark runner: `npm run bench -- <name> [args...]` runs bench/<name>.ts (compiled to dist/bench/<name>.js),
 * whose `run(args)` prints its figures and ratios against a baseline measured in the same run.
 * `npm run bench` with no name lists the benchmarks.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${available.join(', ') || '(none)'}`);
  process.exitCode = name ? 2 : 0;
} else {
  const mod = (await import(`./${name}.js`)) as { run: (a: string[]) => Promise<void> };
  await mod.run(args);
}
