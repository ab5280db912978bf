/**
 * Artefacts of a queued study: the outputs of its stages, addressed by (stage, key) where key is the stage's
 * content key (a hash of its inputs, src/run/stages.ts). Jobs carry these references, never arrays.
 *
 * An artefact is produced in a private working folder and published atomically (one rename), with a manifest of
 * its files (size and sha256 each) and the manifest's hash recorded in its `done.json`. A second producer of the
 * same artefact (a worker that was thought dead, a job run twice) loses the rename and discards its copy, so an
 * artefact is never half-written nor published twice.
 *
 * `ArtefactStore` is the interface a driver implements; {@link FsArtefactStore} is the shared-filesystem driver: the
 * study's `cache/` folder, seen by every worker at the same path. Its layout is the in-process stage cache's, so a
 * queued study and `neuroprobe run` without `--queue` reuse each other's stages. An object-store driver (S3 and
 * compatible) would download an artefact into a local folder in `localDir` and upload the working folder in
 * `produce`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hashFile, hashValue } from '../util/hash.js';
import { writeJsonAtomic } from '../util/atomic.js';

/** A published artefact: its address and the hash of its files' manifest. */
export interface ArtefactRef {
  stage: string;
  key: string;
  hash: string;
}

export interface Published<T> {
  ref: ArtefactRef;
  value: T;
  /** True when the artefact was already published (by an earlier job, an in-process run or another worker). */
  reused: boolean;
  /** Seconds its production took (as recorded when it was produced). */
  seconds: number;
  label: string;
}

export interface ArtefactStore {
  /** Where the artefacts live, for messages. */
  readonly location: string;
  /** The published artefact (stage, key), or null. Checks that its files are all there with their recorded sizes. */
  lookup<T>(stage: string, key: string): Promise<Published<T> | null>;
  /**
   * Produce (stage, key) unless published: `make` gets an empty private working folder and returns the artefact's
   * JSON value; the folder is then published atomically. If another producer published first, its artefact is
   * returned and this copy is discarded.
   */
  produce<T>(stage: string, key: string, label: string, inputs: unknown, make: (workDir: string) => Promise<T>): Promise<Published<T>>;
  /** A local folder holding the artefact's files (read only). */
  localDir(ref: { stage: string; key: string }): Promise<string>;
}

/** One file of an artefact. */
export interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

interface DoneRecord<T> {
  stage: string;
  label: string;
  key: string;
  value: T;
  seconds?: number;
  hash?: string;
  files?: ManifestEntry[];
}

const DONE = 'done.json';

/** The shared-filesystem driver: `<root>/<stage>/<key>/` holding the files and `done.json`. */
export class FsArtefactStore implements ArtefactStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  dirFor(stage: string, key: string): string {
    return join(this.root, stage, key);
  }

  async lookup<T>(stage: string, key: string): Promise<Published<T> | null> {
    return this.lookupSync<T>(stage, key);
  }

  lookupSync<T>(stage: string, key: string): Published<T> | null {
    const dir = this.dirFor(stage, key);
    const donePath = join(dir, DONE);
    if (!existsSync(donePath)) return null;
    const rec = JSON.parse(readFileSync(donePath, 'utf8')) as DoneRecord<T>;
    let hash = rec.hash;
    if (rec.files && hash) {
      for (const f of rec.files) {
        let size = -1;
        try {
          size = statSync(join(dir, f.path)).size;
        } catch {
          // missing: size stays -1
        }
        if (size !== f.bytes) throw new Error(`artefact ${stage}/${key} is damaged: ${f.path} has ${size} bytes, ${f.bytes} recorded`);
      }
    } else {
      // published by the in-process stage cache, which records no manifest
      hash = manifestHash(manifestOf(dir));
    }
    return { ref: { stage, key, hash }, value: rec.value, reused: true, seconds: rec.seconds ?? 0, label: rec.label };
  }

  async produce<T>(stage: string, key: string, label: string, inputs: unknown, make: (workDir: string) => Promise<T>): Promise<Published<T>> {
    const found = this.lookupSync<T>(stage, key);
    if (found) return found;
    const final = this.dirFor(stage, key);
    const work = join(this.root, stage, `.${key}.${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    mkdirSync(work, { recursive: true });
    try {
      writeJsonAtomic(join(work, 'inputs.json'), { stage, label, inputs });
      const t0 = performance.now();
      const value = await make(work);
      const seconds = Math.round(performance.now() - t0) / 1000;
      const files = manifestOf(work);
      const hash = manifestHash(files);
      writeJsonAtomic(join(work, DONE), { stage, label, key, value, seconds, hash, files } satisfies DoneRecord<T>);
      if (!publishDir(work, final)) {
        // another producer won: its artefact stands, ours goes
        rmSync(work, { recursive: true, force: true });
        const theirs = this.lookupSync<T>(stage, key);
        if (!theirs) throw new Error(`artefact ${stage}/${key}: could not publish ${work}`);
        return theirs;
      }
      return { ref: { stage, key, hash }, value, reused: false, seconds, label };
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  }

  async localDir(ref: { stage: string; key: string }): Promise<string> {
    return this.dirFor(ref.stage, ref.key);
  }
}

/**
 * Rename `work` to `final`. A `final` without done.json (a partial in-process attempt, or an empty folder) is moved
 * aside first. Returns false when `final` is a published artefact (someone else published first).
 */
function publishDir(work: string, final: string): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      renameSync(work, final);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (existsSync(join(final, DONE))) return false;
      const aside = `${final}.stale-${randomBytes(4).toString('hex')}`;
      try {
        renameSync(final, aside);
      } catch {
        // someone else moved or published it: look again
        continue;
      }
      rmSync(aside, { recursive: true, force: true });
    }
  }
  return existsSync(join(final, DONE)) ? false : (renameSync(work, final), true);
}

/** Size and sha256 of every file under `dir` but done.json, sorted by path. */
export function manifestOf(dir: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const rel = relative(dir, p).split('\\').join('/');
        if (rel === DONE) continue;
        out.push({ path: rel, bytes: statSync(p).size, sha256: hashFile(p) });
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The artefact hash: sha256 of its manifest (16 hex digits, like stage keys). */
export function manifestHash(files: ManifestEntry[]): string {
  return hashValue(files).slice(0, 16);
}
