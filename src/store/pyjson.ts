/**
 * Python-compatible JSON text: NeuroX writes its files with `json.dumps` (", " and ": " separators, non-ASCII as
 * \uXXXX, floats as `repr`, values rounded with `round`), and reads `sentence_to_index` into an insertion-ordered dict.
 * These helpers reproduce that byte for byte.
 */

/** JSON string literal as Python's json.dumps(ensure_ascii=True) writes it. */
export function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Parse a flat JSON object of strings keeping the key order (JSON.parse would move integer-like keys first).
 * Duplicate keys keep their first position and last value, as Python's dict does.
 */
export function parseOrderedStringMap(text: string): [string, string][] {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const str = (): string => {
    ws();
    if (text[i] !== '"') fail('expected a string');
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) fail('bad string');
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };
  const out: [string, string][] = [];
  const pos = new Map<string, number>();
  ws();
  if (text[i++] !== '{') fail('expected {');
  ws();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      const k = str();
      ws();
      if (text[i++] !== ':') fail('expected :');
      const v = str();
      const p = pos.get(k);
      if (p === undefined) {
        pos.set(k, out.length);
        out.push([k, v]);
      } else out[p][1] = v;
      ws();
      const c = text[i++];
      if (c === '}') break;
      if (c !== ',') fail('expected , or }');
    }
  }
  ws();
  if (i !== text.length) fail('trailing characters');
  return out;
}

/** A number as Python's repr prints it (json.dumps uses repr for floats): `1.0`, `1e-05`, `0.12345679`. */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = v.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/**
 * Round to 8 decimals exactly as Python's `round(x, 8)` (NeuroX's writer): correctly rounded on the exact binary
 * value, ties to even. `toFixed` rounds ties away from zero; an exact tie at the 9th decimal happens only when
 * x·512 is an odd integer (x = k/2⁹), and then the even neighbour is chosen.
 */
export function round8(v: number): number {
  if (!Number.isFinite(v)) return v;
  const away = Number(v.toFixed(8));
  const x512 = v * 512; // exact: power of two
  if (!Number.isInteger(x512) || x512 % 2 === 0 || Math.abs(v) >= 2 ** 44) return away;
  const nine = Math.abs(v).toFixed(9); // exact: v has exactly 9 decimals
  const truncated = nine.slice(0, -1); // toward zero, 8 decimals
  const lastDigit = Number(truncated[truncated.length - 1]);
  return lastDigit % 2 === 0 ? Math.sign(v) * Number(truncated) : away;
}
