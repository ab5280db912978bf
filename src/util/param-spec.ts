/**
 * Parameter specs: each estimator declares its parameters once (name, type, default, allowed range, help), and the
 * runtime validation, the zod config schema and the CLI flags derive from that declaration, so defaults and ranges
 * agree everywhere. Unknown keys are errors with a "did you mean" hint.
 */
import { z } from 'zod';
import { InputError } from './errors.js';

interface Base<T> {
  name: string;
  default: T;
  help: string;
  /** CLI flag, default the kebab-case name (`maxEpochs` → `--max-epochs`). */
  flag?: string;
}
export interface NumberParam extends Base<number> {
  type: 'number' | 'integer';
  /** Inclusive lower bound, or exclusive when `minExclusive`. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
}
export interface EnumParam extends Base<string> {
  type: 'enum';
  choices: readonly string[];
}
export type ParamSpec = NumberParam | EnumParam;

/** The type of the values a spec list declares (numbers and strings). */
export type SpecValues<S extends readonly ParamSpec[]> = { [P in S[number] as P['name']]: P['default'] };

/** The allowed range in words: "an integer ≥ 1", "a number > 0 and ≤ 1", "one of 'a', 'b'". */
export function describeRange(p: ParamSpec): string {
  if (p.type === 'enum') return `one of ${p.choices.map((c) => `'${c}'`).join(', ')}`;
  const parts: string[] = [];
  if (p.min !== undefined) parts.push(`${p.minExclusive ? '>' : '≥'} ${p.min}`);
  if (p.max !== undefined) parts.push(`≤ ${p.max}`);
  return `${p.type === 'integer' ? 'an integer' : 'a finite number'}${parts.length ? ' ' + parts.join(' and ') : ''}`;
}

/** Whether `v` is allowed by `p`. */
export function allowed(p: ParamSpec, v: unknown): boolean {
  if (p.type === 'enum') return typeof v === 'string' && p.choices.includes(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (p.type === 'integer' && !Number.isInteger(v)) return false;
  if (p.min !== undefined && (p.minExclusive ? !(v > p.min) : !(v >= p.min))) return false;
  if (p.max !== undefined && !(v <= p.max)) return false;
  return true;
}

/** The closest of `names` to `word` by edit distance, when close enough to be a typo. */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of names) {
    const a = word.toLowerCase(), b = c.toLowerCase();
    const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) dp[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    if (dp[a.length][b.length] < bestD) {
      bestD = dp[a.length][b.length];
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Check `values` against `spec`: every key must be declared (else an InputError with a "did you mean" hint) and every
 * value in range (else an InputError naming the parameter, the value and the allowed range). `what` names the owner
 * ("probe parameter", "lca ranker option"). `known` adds keys that are accepted without checks.
 */
export function checkParams(spec: readonly ParamSpec[], values: Record<string, unknown>, what: string, known: readonly string[] = []): void {
  const byName = new Map(spec.map((p) => [p.name, p]));
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const p = byName.get(k);
    if (!p) {
      if (known.includes(k)) continue;
      const near = closestName(k, [...byName.keys(), ...known]);
      throw new InputError(`unknown ${what} '${k}'${near ? ` (did you mean '${near}'?)` : ''}`, { expected: `one of ${[...byName.keys(), ...known].join(', ')}` });
    }
    if (!allowed(p, v)) throw new InputError(`invalid ${what} ${k}=${typeof v === 'string' ? `'${v}'` : String(v)}`, { expected: describeRange(p) });
  }
}

/** The defaults of a spec as an object. */
export function specDefaults<S extends readonly ParamSpec[]>(spec: S): SpecValues<S> {
  return Object.fromEntries(spec.map((p) => [p.name, p.default])) as SpecValues<S>;
}

/** A zod field for one parameter (range from the spec, default from the spec unless `dflt` overrides it). */
export function zodParam(p: ParamSpec, dflt: unknown = p.default): z.ZodTypeAny {
  if (p.type === 'enum') return z.enum(p.choices as [string, ...string[]]).default(dflt as string).describe(p.help);
  let n = z.number();
  if (p.type === 'integer') n = n.int();
  n = n.finite();
  if (p.min !== undefined) n = p.minExclusive ? n.gt(p.min) : n.gte(p.min);
  if (p.max !== undefined) n = n.lte(p.max);
  return n.default(dflt as number).describe(p.help);
}

/** The zod shape of a spec list; `overrides` changes defaults by name (a study's own defaults, declared once). */
export function zodShape(spec: readonly ParamSpec[], overrides: Record<string, unknown> = {}): Record<string, z.ZodTypeAny> {
  return Object.fromEntries(spec.map((p) => [p.name, zodParam(p, p.name in overrides ? overrides[p.name] : p.default)]));
}

/** The CLI flag of a parameter: `--max-epochs <n>`. */
export function flagOf(p: ParamSpec): string {
  const flag = p.flag ?? '--' + p.name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  return `${flag} <${p.type === 'enum' ? 'name' : p.type === 'integer' ? 'n' : 'x'}>`;
}

/** Help text of a flag: the spec's help, the allowed range and the default. */
export function flagHelp(p: ParamSpec, dflt: unknown = p.default): string {
  // an enum's choices are listed by the CLI itself
  return p.type === 'enum' ? `${p.help} (default: ${String(dflt)})` : `${p.help}; ${describeRange(p)} (default: ${String(dflt)})`;
}

/** Parse a flag's text into a value of the spec's type, or throw with the parameter, the text and the range. */
export function parseFlag(p: ParamSpec, text: string): string | number {
  const v = p.type === 'enum' ? text : text.trim() === '' ? Number.NaN : Number(text);
  if (!allowed(p, v)) throw new InputError(`invalid ${flagOf(p).split(' ')[0]} '${text}'`, { expected: describeRange(p) });
  return v;
}
