/**
 * `--out` path safety for the commands that write (extract, convert, run, probe --save, analyze --out), checked
 * before any work starts:
 *
 * - a folder where a file is expected, or a file where a folder is expected (also a file in the way of a parent
 *   folder), is an InputError naming the path;
 * - an existing output that is not the command's own kind (an activation store, a run folder, ...) and not an empty
 *   folder is refused (InputError, exit 2) unless `--force`: a command never deletes or overwrites what the user made;
 * - overwriting the command's own earlier output is allowed.
 *
 * Folder outputs of `probe --save` and `analyze --out` are written by {@link publishInto}: into a temporary folder
 * next to the target first, then moved in entry by entry, so an interrupted command leaves nothing under the final
 * name and a user's other files in the folder are never touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { isHdf5 } from '../store/neurox-hdf5.js';
import { formatFromPath, type ActivationFormat } from '../store/load.js';

/** What a command writes at its `--out`. */
export interface OutPathSpec {
  /** The flag or argument, for messages: `--out`, `<out>`, `--save`. */
  flag: string;
  /** A file (hdf5, json) or a folder (store, run, analysis). */
  kind: 'file' | 'dir';
  /** What the command writes there, for messages: 'activation store', 'run folder'. */
  what: string;
  /** True when an existing path is the command's own earlier output (then overwriting it is fine). */
  isOwn: (path: string) => boolean;
  /** --force: write over an existing output that is not the command's own. */
  force?: boolean;
}

/** Throw an InputError if `path` cannot take the output of `spec` (see the module comment). */
export function checkOutPath(path: string, spec: OutPathSpec): void {
  const where = { file: path };
  // a file where a parent folder has to be
  for (let p = dirname(resolve(path)); p !== dirname(p); p = dirname(p)) {
    if (!existsSync(p)) continue;
    if (!statSync(p).isDirectory()) {
      throw new InputError(`${spec.flag}: ${p} is a file, so it cannot hold the ${spec.what}`, { location: where, expected: 'a path whose parent folders are folders' });
    }
    break;
  }
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (spec.kind === 'file' && st.isDirectory()) {
    throw new InputError(`${spec.flag} is an existing folder, but the ${spec.what} is a file`, {
      location: where,
      expected: `a file path (e.g. ${join(path, 'out' + (spec.what.includes('json') ? '.json' : '.hdf5'))})`,
    });
  }
  if (spec.kind === 'dir' && !st.isDirectory()) {
    throw new InputError(`${spec.flag} is an existing file, but the ${spec.what} is a folder`, { location: where, expected: 'a folder path' });
  }
  if (st.isDirectory() && readdirSync(path).length === 0) return;
  if (spec.isOwn(path) || spec.force) return;
  const held = st.isDirectory() ? ` (it holds ${listSome(path)})` : '';
  throw new InputError(`${spec.flag} exists and is not ${/^[aeiou]/i.test(spec.what) ? 'an' : 'a'} ${spec.what}${held}; refusing to overwrite it`, {
    location: where,
    expected: `a new path, an empty folder, an earlier ${spec.what}, or --force to overwrite it`,
  });
}

function listSome(dir: string): string {
  const names = readdirSync(dir).sort();
  return names.slice(0, 3).join(', ') + (names.length > 3 ? `, … (${names.length} entries)` : '');
}

/** The first bytes of a file (for recognising formats). */
function head(path: string, n = 4096): string {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const k = readSync(fd, b, 0, n, 0);
    return b.toString('utf8', 0, k);
  } finally {
    closeSync(fd);
  }
}

/** A NeuroX JSON-lines activation file (what neuroprobe's json writer and NeuroX's write): `{"linex_index": ...`. */
export function isNeuroxJson(path: string): boolean {
  try {
    return statSync(path).isFile() && /^\s*\{\s*"(linex_index|features)"/.test(head(path, 256));
  } catch {
    return false;
  }
}

/** The `--out` spec of an activation output (extract, convert) in `format` (default: from the path). */
export function activationOutSpec(path: string, flag: string, force: boolean, format?: ActivationFormat): OutPathSpec {
  const f = format ?? formatFromPath(path);
  if (f === 'store') return { flag, kind: 'dir', what: 'activation store', isOwn: isStoreFolder, force };
  if (f === 'hdf5') return { flag, kind: 'file', what: 'NeuroX hdf5 file', isOwn: isHdf5, force };
  return { flag, kind: 'file', what: 'NeuroX json file', isOwn: isNeuroxJson, force };
}

/** A neuroprobe activation store: meta.json of format neuroprobe-activations (not just any folder with a meta.json). */
export function isStoreFolder(path: string): boolean {
  return hasJsonFormat(join(path, 'meta.json'), 'neuroprobe-activations');
}

/** A folder written by `neuroprobe run` (results, run record or its stage cache). */
export function isRunFolder(path: string): boolean {
  return ['results.json', 'run.json', join('cache', 'extract'), join('cache', 'analysis'), join('queue', 'plan.json')].some((f) => existsSync(join(path, f)));
}

/** A folder written by `probe --save` (probe.json of format neuroprobe-probe). */
export function isProbeFolder(path: string): boolean {
  return hasJsonFormat(join(path, 'probe.json'), 'neuroprobe-probe');
}

/** A folder written by `analyze --out` (result.json and the oracle probe). */
export function isAnalysisFolder(path: string): boolean {
  return existsSync(join(path, 'result.json')) && isProbeFolder(join(path, 'oracle'));
}

function hasJsonFormat(file: string, format: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format === format;
  } catch {
    return false;
  }
}

/**
 * Write a folder output atomically as far as the file system allows: `write(tmp)` fills a temporary folder next to
 * `target`, then each of its entries is renamed into `target` (replacing an entry of the same name, leaving every
 * other entry alone). Nothing appears under `target` until `write` has finished; on an error the temporary folder
 * is removed.
 */
export function publishInto(target: string, write: (tmp: string) => void): void {
  const tmp = join(dirname(resolve(target)), `.${basename(target)}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    write(tmp);
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(tmp)) {
      const to = join(target, name);
      if (existsSync(to)) {
        const old = join(target, `.${name}.old-${process.pid}`);
        rmSync(old, { recursive: true, force: true });
        renameSync(to, old);
        renameSync(join(tmp, name), to);
        rmSync(old, { recursive: true, force: true });
      } else {
        renameSync(join(tmp, name), to);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
