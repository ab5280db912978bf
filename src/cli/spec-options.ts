/** Commander options from parameter specs (../util/param-spec.ts): flag, help, range check and default from one declaration. */
import { Option } from 'commander';
import { flagHelp, flagOf, parseFlag, type ParamSpec } from '../util/param-spec.js';

/** The option of one parameter; `dflt` replaces the spec's default where a command has its own (declared once there). */
export function specOption(p: ParamSpec, dflt: unknown = p.default): Option {
  const o = new Option(flagOf(p), flagHelp(p, dflt)).default(dflt);
  return p.type === 'enum' ? o.choices([...p.choices]) : o.argParser((text: string) => parseFlag(p, text));
}

/** The spec entry named `name` (a typo in the code is an error at start-up, not a silently missing flag). */
export function specNamed(spec: readonly ParamSpec[], name: string): ParamSpec {
  const p = spec.find((s) => s.name === name);
  if (!p) throw new Error(`no parameter '${name}' in the spec`);
  return p;
}
