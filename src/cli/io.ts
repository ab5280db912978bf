/**
 * CLI output conventions: machine-readable results on stdout (`--json`), human text and progress on stderr.
 */
import { formatProgress, type ProgressCallback, type ProgressEvent } from '../util/progress.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Print a result: JSON on stdout when `json`, else the human rendering on stdout. */
  result: (value: unknown, json: boolean, human?: () => string) => void;
  /** A progress callback drawing bars on a TTY and throttled plain lines otherwise. Call `done()` at the end. */
  progress: () => { onProgress: ProgressCallback; done: () => void };
}

export function defaultIO(): CliIO {
  const view = new ProgressView(process.stderr);
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    // log lines go through the progress view, so they never land on a bar's line
    err: (t) => view.log(t),
    result(value, json, human) {
      if (json || !human) process.stdout.write(JSON.stringify(value, null, json ? 0 : 2) + '\n');
      else process.stdout.write(human() + '\n');
    },
    progress: () => view.session(),
  };
}

/** The writable side a {@link ProgressView} draws on (stderr; a fake in tests). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Progress drawn from the progress events themselves: on a terminal, one line per running kind, redrawn in place at
 * most every `redrawMs` (a long probe fit keeps showing its iterations and objective, because nothing waits for a
 * timer); elsewhere, plain lines at most every `lineMs` per kind. Log lines erase the bars, print, and redraw them
 * below. A `stage` event ends the sub-tasks of the previous stage (their lines go), and a finished kind is dropped, so
 * no bar is left at 62 %.
 */
export class ProgressView {
  private readonly tty: boolean;
  private readonly rows = new Map<string, { e: ProgressEvent; start: number }>();
  private drawn = 0;
  private lastDraw = -Infinity;
  private readonly lastLine = new Map<string, number>();

  constructor(
    private readonly stream: ProgressStream,
    opts: { tty?: boolean; redrawMs?: number; lineMs?: number; now?: () => number } = {},
  ) {
    this.tty = opts.tty ?? (Boolean(stream.isTTY) && !process.env.CI);
    this.redrawMs = opts.redrawMs ?? 100;
    this.lineMs = opts.lineMs ?? 2000;
    this.now = opts.now ?? Date.now;
  }
  private readonly redrawMs: number;
  private readonly lineMs: number;
  private readonly now: () => number;

  /** A progress callback and its `done()` (which clears the bars). */
  session(): { onProgress: ProgressCallback; done: () => void } {
    return { onProgress: (e) => this.event(e), done: () => this.clear() };
  }

  event(e: ProgressEvent): void {
    const t = this.now();
    if (e.kind === 'stage') for (const k of [...this.rows.keys()]) if (k !== 'stage' && k !== 'extract') this.rows.delete(k);
    const row = this.rows.get(e.kind);
    const start = row && e.done >= row.e.done ? row.start : t;
    this.rows.set(e.kind, { e, start });
    const final = e.total !== undefined && e.done >= e.total;
    if (this.tty) {
      if (final || t - this.lastDraw >= this.redrawMs) this.redraw();
      if (final) this.rows.delete(e.kind);
      return;
    }
    if (!final && t - (this.lastLine.get(e.kind) ?? -Infinity) < this.lineMs) return;
    this.lastLine.set(e.kind, t);
    this.stream.write(formatProgress(e, (t - start) / 1000) + '\n');
    if (final) this.rows.delete(e.kind);
  }

  /** Print a log line on its own line (above the bars on a terminal). */
  log(text: string): void {
    const line = text.endsWith('\n') ? text : text + '\n';
    if (!this.tty || this.drawn === 0) {
      this.stream.write(line);
      return;
    }
    this.erase();
    this.stream.write(line);
    this.redraw();
  }

  /** Remove the bars (end of a command). */
  clear(): void {
    if (this.tty) this.erase();
    this.rows.clear();
    this.lastLine.clear();
  }

  private erase(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    const t = this.now();
    const width = Math.max(40, ((this.stream as { columns?: number }).columns ?? 120) - 1);
    const lines = [...this.rows.values()].map(({ e, start }) => formatProgress(e, (t - start) / 1000, { bar: 20 }).slice(0, width));
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) out += `\r\x1b[2K${l}\n`;
    if (lines.length < this.drawn) out += '\x1b[J';
    this.stream.write(out);
    this.drawn = lines.length;
    this.lastDraw = t;
  }
}
