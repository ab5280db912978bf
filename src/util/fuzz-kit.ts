/**
 * Shared pieces of the fuzz tests (`*.fuzz.test.ts`, fast-check): mutations of valid files (truncations, byte
 * flips, inserted and deleted ranges, column changes, numbers replaced by huge, negative or non-finite ones) and the
 * property every reader must have: it returns a result or throws an InputError, nothing else. Used only by tests.
 */
import fc from 'fast-check';
import { InputError } from './errors.js';

/** The seed of every fuzz test (fixed: a failure reproduces). */
export const FUZZ_SEED = 18;

/** Runs per property: a few seconds in total across the fuzz tests. */
export const FUZZ_RUNS = 150;

/** One edit of a byte string. */
export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number }
  | { kind: 'number'; which: number; by: string }
  | { kind: 'token'; which: number; by: string };

const WEIRD_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '-1', '0', '-0', '1e-320', '99999999999999999999', '3.4e38', '1.5', '', '-'];
const WEIRD_TOKENS = ['\t', '\n', '\r\n', ' ', '_', '|', '=', '-', '.', '#', '{', '}', '[', ']', '"', ',', ':', 'null', '\u0000', '\ufeff', '\u2028', 'é'];

/** An arbitrary mutation (positions are fractions of the length, resolved by {@link applyMutation}). */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('number' as const), which: fc.nat(), by: fc.constantFrom(...WEIRD_NUMBERS) }),
  fc.record({ kind: fc.constant('token' as const), which: fc.nat(), by: fc.constantFrom(...WEIRD_TOKENS) }),
);

/** 1 to 4 mutations. */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Apply one mutation to `bytes` (a new array). `number` edits the which-th number, `token` the which-th separator. */
export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const pos = (at: number): number => (n === 0 ? 0 : at % (n + 1));
  switch (m.kind) {
    case 'truncate':
      return bytes.slice(0, pos(m.at));
    case 'flip': {
      const out = bytes.slice();
      if (n) out[m.at % n] = m.byte;
      return out;
    }
    case 'insert': {
      const p = pos(m.at);
      return concat(bytes.subarray(0, p), m.bytes, bytes.subarray(p));
    }
    case 'delete': {
      const p = pos(m.at);
      return concat(bytes.subarray(0, p), bytes.subarray(Math.min(n, p + m.len)));
    }
    case 'duplicate': {
      const p = pos(m.at);
      const piece = bytes.subarray(p, Math.min(n, p + m.len));
      return concat(bytes.subarray(0, p), piece, piece, bytes.subarray(p + piece.length));
    }
    case 'number':
    case 'token': {
      const text = Buffer.from(bytes).toString('latin1');
      const re = m.kind === 'number' ? /-?\d+(\.\d+)?([eE][-+]?\d+)?/g : /[\t\n |=,:{}[\]"_.-]/g;
      const hits = [...text.matchAll(re)];
      if (!hits.length) return bytes.slice();
      const h = hits[m.which % hits.length];
      const out = text.slice(0, h.index) + m.by + text.slice(h.index! + h[0].length);
      // the replacement as UTF-8, the rest byte for byte
      return concat(Buffer.from(text.slice(0, h.index), 'latin1'), Buffer.from(m.by, 'utf8'), Buffer.from(out.slice(h.index! + m.by.length), 'latin1'));
    }
  }
}

/** Apply several mutations in order. */
export function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  return ms.reduce((b, m) => applyMutation(b, m), bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Call `fn`; a result or an InputError passes, anything else is returned as a failure message. */
export async function returnsOrInputError(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof InputError) return;
    throw new Error(`not an InputError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
  }
}
