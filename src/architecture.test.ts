/**
 * Layout rule: no import cycle between the top-level folders of src/ (data → extract/models → store → probe →
 * rank/select → analysis → report → run, with cli on top). Product modules and test helpers (testing.ts, fixtures)
 * count; `*.test.ts` files do not, since nothing imports them (a models test may use an extraction helper).
 * Reads the source files' static and dynamic relative imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

const SRC = 'src';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative module specifiers of a file: import/export … from '…', import '…', import('…'). */
export function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) specs.push(m[1]);
  return specs;
}

/** Folder graph: folder → folder → one example edge "file -> spec". */
function folderGraph(): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file).split(sep);
    if (from.length < 2) continue; // src/index.ts sits above every folder
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = relative(SRC, normalize(join(dirname(file), spec))).split(sep);
      if (to.length < 2 || to[0] === '..' || to[0] === from[0]) continue;
      if (!g.has(from[0])) g.set(from[0], new Map());
      const edges = g.get(from[0])!;
      if (!edges.has(to[0])) edges.set(to[0], `${file} -> ${spec}`);
    }
  }
  return g;
}

/** One cycle per strongly connected component with more than one folder (Tarjan), as a folder path a → … → a. */
export function findCycles(g: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  let i = 0;
  const visit = (v: string): void => {
    index.set(v, i); low.set(v, i); i++;
    stack.push(v); onStack.add(v);
    for (const w of g.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) comps.push(comp);
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  // Within each component, a shortest path back to its first folder gives a readable cycle.
  return comps.map((comp) => {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0];
    const prev = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of g.get(v)?.keys() ?? []) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0])!);
          return [...path, start];
        }
        if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
      }
    }
    return comp;
  });
}

test('findCycles reports a cycle and nothing for a DAG', () => {
  const g = (edges: [string, string][]) => {
    const m = new Map<string, Map<string, string>>();
    for (const [a, b] of edges) { if (!m.has(a)) m.set(a, new Map()); m.get(a)!.set(b, `${a}->${b}`); }
    return m;
  };
  assert.deepEqual(findCycles(g([['a', 'b'], ['b', 'c'], ['a', 'c']])), []);
  assert.deepEqual(findCycles(g([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']])), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(relativeImports(`import x from './a.js';\nexport { y } from "../b/c.js";\nconst z = await import('./d.js');\nimport 'node:fs';`), ['./a.js', '../b/c.js', './d.js']);
});

test('no import cycle between the top-level folders of src/', () => {
  const g = folderGraph();
  assert.ok(g.size >= 8, `expected the folder graph of src/, got ${g.size} folders`);
  const cycles = findCycles(g);
  const describe = (c: string[]) =>
    c.join(' -> ') + '\n' + c.slice(1).map((to, k) => `    ${g.get(c[k])!.get(to)}`).join('\n');
  assert.equal(cycles.length, 0, `folder import cycles:\n  ${cycles.map(describe).join('\n  ')}`);
});
