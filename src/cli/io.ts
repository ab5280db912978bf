/**
 * CLI output conventions: machine-readable results on stdout (`--json`), human text and progress on stderr.
 */
import cliProgress from 'cli-progress';
import type { ProgressCallback, ProgressEvent } from '../util/progress.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Print a result: JSON on stdout when `json`, else the human rendering on stdout. */
  result: (value: unknown, json: boolean, human?: () => string) => void;
  /** A progress callback drawing bars on a TTY and throttled plain lines otherwise. Call `done()` at the end. */
  progress: () => { onProgress: ProgressCallback; done: () => void };
}

export function defaultIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    result(value, json, human) {
      if (json || !human) process.stdout.write(JSON.stringify(value, null, json ? 0 : 2) + '\n');
      else process.stdout.write(human() + '\n');
    },
    progress: () => makeProgress(process.stderr),
  };
}

function makeProgress(stream: NodeJS.WriteStream): { onProgress: ProgressCallback; done: () => void } {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const bars = new Map<string, cliProgress.SingleBar>();
  const lastLine = new Map<string, number>();
  const started = new Map<string, number>();
  let multi: cliProgress.MultiBar | null = null;
  const onProgress = (e: ProgressEvent): void => {
    if (!started.has(e.kind)) started.set(e.kind, Date.now());
    if (tty && e.total !== undefined) {
      if (!multi) {
        multi = new cliProgress.MultiBar(
          {
            stream,
            clearOnComplete: false,
            hideCursor: true,
            format: '{kind} [{bar}] {percentage}% | {value}/{total} {unit} | {rate}/s | ETA {eta_formatted} {message}',
          },
          cliProgress.Presets.shades_classic,
        );
      }
      let bar = bars.get(e.kind);
      const payload = () => {
        const secs = (Date.now() - (started.get(e.kind) ?? Date.now())) / 1000;
        return { kind: e.kind.padEnd(8), unit: e.unit ?? '', message: e.message ?? '', rate: secs > 0 ? Math.round(e.done / secs) : 0 };
      };
      if (!bar) {
        bar = multi.create(e.total, e.done, payload());
        bars.set(e.kind, bar);
      }
      bar.setTotal(e.total);
      bar.update(e.done, payload());
      return;
    }
    const now = Date.now();
    const final = e.total !== undefined && e.done >= e.total;
    if (!final && now - (lastLine.get(e.kind) ?? 0) < 2000) return;
    lastLine.set(e.kind, now);
    const secs = (now - (started.get(e.kind) ?? now)) / 1000;
    const rate = secs > 0 ? ` ${(e.done / secs).toFixed(0)} ${e.unit ?? 'items'}/s` : '';
    const frac = e.total !== undefined ? `${e.done}/${e.total}` : `${e.done}`;
    stream.write(`[${e.kind}] ${frac}${rate}${e.message ? ' ' + e.message : ''}\n`);
  };
  return {
    onProgress,
    done: () => {
      if (multi) multi.stop();
      multi = null;
      bars.clear();
    },
  };
}
