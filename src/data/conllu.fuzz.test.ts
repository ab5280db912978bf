import { test } from 'node:test';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseConllu, readConllu } from './conllu.js';
import { FUZZ_RUNS, FUZZ_SEED, mutationsArb, mutate, returnsOrInputError } from '../util/fuzz-kit.js';
import { fileURLToPath } from 'node:url';

/** The first sentences of UD EWT dev (multiword tokens, features, MISC) plus an empty node and a tab-ended MISC. */
function seedText(): string {
  const ewt = readFileSync(fileURLToPath(new URL('../../../assets/data/ud/en_ewt-ud-dev.conllu', import.meta.url)), 'utf8');
  const first = ewt.split('\n\n').slice(0, 4).join('\n\n');
  return first + '\n\n# sent_id = extra\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t0:root\t\n1.1\tx\tx\tX\tX\t_\t_\t_\t1:dep\t_\n2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t1:punct\tSpaceAfter=No\n\n';
}

test('fuzz: CoNLL-U from mutated files returns sentences or throws an InputError, never anything else', { timeout: 60_000 }, async () => {
  const base = new Uint8Array(Buffer.from(seedText()));
  const dir = mkdtempSync(join(tmpdir(), 'np-fuzz-conllu-'));
  const file = join(dir, 'f.conllu');
  await fc.assert(
    fc.asyncProperty(mutationsArb, async (ms) => {
      const bytes = mutate(base, ms);
      writeFileSync(file, bytes);
      await returnsOrInputError(() => readConllu(file));
      await returnsOrInputError(() => parseConllu(Buffer.from(bytes).toString('utf8'), 'f.conllu'));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
});

test('fuzz: CoNLL-U from random lines of random columns returns or throws an InputError', { timeout: 60_000 }, async () => {
  const cell = fc.oneof(fc.constantFrom('_', '0', '1', '2', '1-2', '1.1', '99', '-1', 'a=b', 'a', '', 'X|Y=Z', '0:root'), fc.string({ maxLength: 4 }));
  const line = fc.oneof(fc.array(cell, { minLength: 1, maxLength: 12 }).map((c) => c.join('\t')), fc.constantFrom('', '# sent_id = s', '# text = t'));
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 20 }), async (lines) => {
      await returnsOrInputError(() => parseConllu(lines.join('\n'), 'r.conllu'));
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS * 2 },
  );
});
