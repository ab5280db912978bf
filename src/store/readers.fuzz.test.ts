import { test } from 'node:test';
import { readFileSync, writeFileSync, readdirSync, rmSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createActivationWriter, openActivations } from './load.js';
import { makeMeta, makeSentences, tempDir } from './testkit.js';
import { FUZZ_RUNS, FUZZ_SEED, mutationsArb, mutate, returnsOrInputError } from '../util/fuzz-kit.js';

const L = 2, W = 3;

async function seedFile(path: string, dtype: 'float32' | 'float16' = 'float32'): Promise<void> {
  const w = await createActivationWriter(path, makeMeta(L, W, dtype));
  for (const s of makeSentences(5, L * W, 7, 4)) w.writeSentence(s.words, s.rows);
  w.close();
}

/** Open, then read every row (openActivations already scans them all for non-finite values). */
async function openAndRead(path: string, format?: 'store' | 'hdf5' | 'json'): Promise<void> {
  const a = await openActivations(path, format ? { format } : {});
  try {
    a.source.readRows(0, a.source.rows);
  } finally {
    a.close();
  }
}

test('fuzz: a mutated NeuroX json file opens or throws an InputError', { timeout: 60_000 }, async () => {
  const dir = tempDir('np-fuzz-json-');
  const good = join(dir, 'good.json');
  await seedFile(good);
  const base = new Uint8Array(readFileSync(good));
  const p = join(dir, 'x.json');
  await fc.assert(
    fc.asyncProperty(mutationsArb, async (ms) => {
      writeFileSync(p, mutate(base, ms));
      await returnsOrInputError(() => openAndRead(p));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
});

test('fuzz: a mutated NeuroX hdf5 file (float32 and float16) opens or throws an InputError', { timeout: 60_000 }, async () => {
  const dir = tempDir('np-fuzz-h5-');
  const bases: Uint8Array[] = [];
  for (const dt of ['float32', 'float16'] as const) {
    const good = join(dir, `good-${dt}.hdf5`);
    await seedFile(good, dt);
    bases.push(new Uint8Array(readFileSync(good)));
  }
  const p = join(dir, 'x.hdf5');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1), mutationsArb, async (b, ms) => {
      writeFileSync(p, mutate(bases[b], ms));
      await returnsOrInputError(() => openAndRead(p));
    }),
    // fewer runs: libhdf5 aborts its WebAssembly instance on some damaged files, after which every later open in
    // this process fails (as an InputError), so later runs test less
    { seed: FUZZ_SEED, numRuns: 100 },
  );
});

test('fuzz: a neuroprobe store with one mutated file (meta.json, words.jsonl or data.bin) opens or throws an InputError', { timeout: 60_000 }, async () => {
  const dir = tempDir('np-fuzz-store-');
  const good = join(dir, 'good');
  await seedFile(good);
  const files = readdirSync(good).sort();
  const p = join(dir, 'x');
  await fc.assert(
    fc.asyncProperty(fc.nat(), mutationsArb, async (which, ms) => {
      rmSync(p, { recursive: true, force: true });
      cpSync(good, p, { recursive: true });
      const f = join(p, files[which % files.length]);
      writeFileSync(f, mutate(new Uint8Array(readFileSync(f)), ms));
      await returnsOrInputError(() => openAndRead(p));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
});
