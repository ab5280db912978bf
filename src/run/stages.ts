/**
 * Content-keyed pipeline stages. Each stage's output lives in `<root>/<stage>/<key>/`, where key is a hash of
 * everything that determines it. A stage is complete when its `done.json` exists (written atomically last), so a
 * rerun — or a run after Ctrl-C or a crash — reuses complete stages and redoes only what is missing; stages that
 * support it (extraction) resume inside their directory.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashValue } from '../util/hash.js';
import { writeJsonAtomic } from '../util/atomic.js';

export interface StageOutcome<T> {
  value: T;
  reused: boolean;
  key: string;
  dir: string;
  seconds: number;
}

export class StageCache {
  constructor(
    readonly root: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** Key of a stage from its inputs (stable JSON hash, 16 hex digits). */
  key(stage: string, inputs: unknown): string {
    return hashValue({ stage, inputs }).slice(0, 16);
  }

  dirFor(stage: string, key: string): string {
    return join(this.root, stage, key);
  }

  /**
   * Run `produce` unless the stage with these inputs is already complete. `produce` gets the stage directory
   * (created, possibly holding a previous partial attempt) and returns a JSON-serialisable value, stored in done.json.
   */
  async run<T>(stage: string, label: string, inputs: unknown, produce: (dir: string) => Promise<T>): Promise<StageOutcome<T>> {
    const key = this.key(stage, inputs);
    const dir = this.dirFor(stage, key);
    const done = join(dir, 'done.json');
    if (existsSync(done)) {
      const rec = JSON.parse(readFileSync(done, 'utf8')) as { value: T };
      this.log(`[${stage}] ${label}: reused (${key})`);
      return { value: rec.value, reused: true, key, dir, seconds: 0 };
    }
    const partial = existsSync(dir);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, 'inputs.json'), { stage, label, inputs });
    this.log(`[${stage}] ${label}: ${partial ? 'resuming' : 'running'} (${key})`);
    const t0 = performance.now();
    const value = await produce(dir);
    const seconds = (performance.now() - t0) / 1000;
    writeJsonAtomic(done, { stage, label, key, value });
    this.log(`[${stage}] ${label}: done in ${seconds.toFixed(1)} s`);
    return { value, reused: false, key, dir, seconds };
  }
}
