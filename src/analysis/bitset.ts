/**
 * Fixed-size bitsets over the words of a corpus (bit i = word i), packed into 32-bit words, with the counting
 * operations compositional explanations need: |A|, |A ∧ B| and |A ∧ B ∧ C| without materialising the conjunction.
 */

/** Number of set bits of a 32-bit integer (SWAR). */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

export class Bitset {
  /** Number of bits. */
  readonly size: number;
  /** Packed bits; the bits past `size` in the last word are always 0. */
  readonly words: Uint32Array;

  constructor(size: number, words?: Uint32Array) {
    this.size = size;
    const n = (size + 31) >>> 5;
    if (words && words.length !== n) throw new Error(`bitset of ${size} bits needs ${n} words, got ${words.length}`);
    this.words = words ?? new Uint32Array(n);
  }

  /** Bits i where `pred(i)` holds. */
  static from(size: number, pred: (i: number) => boolean): Bitset {
    const b = new Bitset(size);
    for (let i = 0; i < size; i++) if (pred(i)) b.words[i >>> 5] |= 1 << (i & 31);
    return b;
  }

  set(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
  }

  get(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  /** |this|. */
  count(): number {
    let c = 0;
    const w = this.words;
    for (let i = 0; i < w.length; i++) c += popcount32(w[i]);
    return c;
  }

  and(o: Bitset): Bitset {
    const out = new Bitset(this.size);
    for (let i = 0; i < out.words.length; i++) out.words[i] = this.words[i] & o.words[i];
    return out;
  }

  or(o: Bitset): Bitset {
    const out = new Bitset(this.size);
    for (let i = 0; i < out.words.length; i++) out.words[i] = this.words[i] | o.words[i];
    return out;
  }

  andNot(o: Bitset): Bitset {
    const out = new Bitset(this.size);
    for (let i = 0; i < out.words.length; i++) out.words[i] = this.words[i] & ~o.words[i];
    return out;
  }

  /** Whether both sets hold the same bits. */
  equals(o: Bitset): boolean {
    if (o.size !== this.size) return false;
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== o.words[i]) return false;
    return true;
  }
}

/** |a ∧ b|. */
export function andCount(a: Uint32Array, b: Uint32Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) c += popcount32(a[i] & b[i]);
  return c;
}

/** |a ∧ b| and |a ∧ b ∧ m| in one pass. */
export function andCounts(a: Uint32Array, b: Uint32Array, m: Uint32Array): { both: number; masked: number } {
  let both = 0;
  let masked = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] & b[i];
    if (x === 0) continue;
    both += popcount32(x);
    masked += popcount32(x & m[i]);
  }
  return { both, masked };
}
