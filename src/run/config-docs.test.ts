/** docs/config.md documents every key of the study config schema (with its type, default and meaning). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configSchema, packageRoot } from './config.js';

/** Every key of every object schema reachable from `s` (through arrays, optionals, defaults and unions). */
function keysOf(s: z.ZodType, seen = new Set<z.ZodType>()): string[] {
  if (seen.has(s)) return [];
  seen.add(s);
  if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) return keysOf(s.unwrap() as z.ZodType, seen);
  if (s instanceof z.ZodArray) return keysOf(s.element as z.ZodType, seen);
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap((o) => keysOf(o, seen));
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.ZodType>;
    return Object.entries(shape).flatMap(([k, v]) => [k, ...keysOf(v, seen)]);
  }
  return [];
}

test('docs/config.md has a table row for every config key', () => {
  const doc = readFileSync(join(packageRoot(), 'docs', 'config.md'), 'utf8');
  const keys = [...new Set(keysOf(configSchema))];
  assert.ok(keys.length > 30, `${keys.length} keys`);
  const missing = keys.filter((k) => !doc.includes(`| \`${k}\` |`));
  assert.deepEqual(missing, [], `undocumented config keys: ${missing.join(', ')}`);
  assert.match(doc, /resolve against\s+the folder of the config file/);
});
