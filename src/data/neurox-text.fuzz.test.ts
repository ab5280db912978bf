import { test } from 'node:test';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readTokenLabelFiles } from './neurox-text.js';
import { FUZZ_RUNS, FUZZ_SEED, mutationsArb, mutate, returnsOrInputError } from '../util/fuzz-kit.js';

const TOKENS = 'The cat sat .\nA dog barked loudly !\nHi\n';
const LABELS = 'DT NN VBD .\nDT NN VBD RB .\nUH\n';

test('fuzz: NeuroX token/label files, either one mutated, return sentences or throw an InputError', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-fuzz-text-'));
  const t = join(dir, 'x.word');
  const l = join(dir, 'x.label');
  await fc.assert(
    fc.asyncProperty(mutationsArb, fc.constantFrom('tokens', 'labels', 'both'), async (ms, which) => {
      writeFileSync(t, which === 'labels' ? TOKENS : mutate(new Uint8Array(Buffer.from(TOKENS)), ms));
      writeFileSync(l, which === 'tokens' ? LABELS : mutate(new Uint8Array(Buffer.from(LABELS)), ms));
      await returnsOrInputError(() => readTokenLabelFiles(t, l));
      await returnsOrInputError(() => readTokenLabelFiles(t));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
});
