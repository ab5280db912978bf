/** The study config's probe section, the probe's own defaults and docs/config.md agree: one spec (probe/params.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultConfig, validateConfig } from './config.js';
import { DEFAULT_PROBE_PARAMS } from '../probe/linear-probe.js';
import { ANALYSIS_PROBE_DEFAULTS } from '../analysis/probe-factory.js';
import { InputError } from '../util/errors.js';

test('study probe defaults come from the probe parameter spec (analysis l1/l2 on top), and docs/config.md shows them', () => {
  const probe = defaultConfig().probe as unknown as Record<string, unknown>;
  const keys = Object.keys(probe);
  assert.ok(keys.includes('engine') && keys.includes('maxIter'), keys.join());
  for (const k of keys) assert.equal(probe[k], (ANALYSIS_PROBE_DEFAULTS as Record<string, unknown>)[k] ?? (DEFAULT_PROBE_PARAMS as unknown as Record<string, unknown>)[k], k);
  const doc = readFileSync('docs/config.md', 'utf8');
  const section = doc.slice(doc.indexOf('## `probe`'), doc.indexOf('## `control`'));
  for (const k of keys) {
    const row = section.split('\n').find((l) => l.startsWith('| `' + k + '` |'));
    assert.ok(row, `docs/config.md has no probe row for ${k}`);
    const cells = row.split(/(?<!\\)\|/).map((c) => c.trim()); // cells of a markdown row ('\|' inside a cell)
    assert.equal(cells[3], '`' + String(probe[k]) + '`', `docs/config.md default of probe.${k}`);
  }
});

test('study probe values are range-checked from the spec, naming the key', () => {
  const base = defaultConfig() as unknown as Record<string, unknown>;
  const bad = (probe: Record<string, unknown>) => () => validateConfig({ ...base, probe }, 'study.yaml', '.');
  assert.throws(bad({ tol: 0 }), (e: unknown) => e instanceof InputError && /probe\.tol/.test(e.message));
  assert.throws(bad({ engine: 'gpu' }), (e: unknown) => e instanceof InputError && /probe\.engine/.test(e.message));
  assert.throws(bad({ maxEpoch: 3 }), (e: unknown) => e instanceof InputError && /did you mean "maxEpochs"/.test(e.message));
  assert.equal((validateConfig({ ...base, probe: { engine: 'float' } }, 'study.yaml', '.').probe as { engine: string }).engine, 'float');
});
