/**
 * Progress is a typed event stream: the library emits events through an optional callback and never prints;
 * the CLI decides how to draw them (a bar on a terminal, plain lines otherwise).
 */
export interface ProgressEvent {
  /** Which stage is reporting, e.g. 'extract', 'epoch', 'rank', 'select', 'ablate', 'stage'. */
  kind: string;
  /** Units done so far and total (when known). */
  done: number;
  total?: number;
  /** Unit name for rates, e.g. 'words', 'epochs'. */
  unit?: string;
  /** Free-form status line. */
  message?: string;
}

export type ProgressCallback = (e: ProgressEvent) => void;

/** Call `cb` if given. */
export function emit(cb: ProgressCallback | undefined, e: ProgressEvent): void {
  if (cb) cb(e);
}

/**
 * A rate for humans, or '' when it means nothing yet (under a second of work, nothing done): "1,234 words/s" at
 * one per second or more, "12.5 s/stage" below (never "0 stages/s").
 */
export function formatRate(done: number, seconds: number, unit = 'items'): string {
  if (!(seconds >= 1) || !(done > 0) || !Number.isFinite(done / seconds)) return '';
  const perSecond = done / seconds;
  if (perSecond >= 1) return `${perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)} ${unit}/s`;
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  return `${(seconds / done).toFixed(1)} s/${singular}`;
}

/** Time left as m:ss (or h:mm:ss), or '' when it cannot be estimated (no total, nothing done, under 2 s of work). */
export function formatEta(done: number, total: number | undefined, seconds: number): string {
  if (total === undefined || !(done > 0) || !(seconds >= 2) || done >= total) return '';
  const left = ((total - done) * seconds) / done;
  if (!Number.isFinite(left)) return '';
  const s = Math.round(left);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** One progress line: `[kind] done/total unit (pct) | rate | ETA m:ss | message`, leaving out what is not known. */
export function formatProgress(e: ProgressEvent, seconds: number, opts: { bar?: number } = {}): string {
  const parts: string[] = [];
  let head = `[${e.kind}]`;
  if (e.total !== undefined && e.total > 0) {
    const frac = Math.max(0, Math.min(1, e.done / e.total));
    if (opts.bar) head += ` ${'█'.repeat(Math.round(frac * opts.bar)).padEnd(opts.bar, '░')}`;
    // plain digits (no thousands separators): scripts and tests match `[kind] N/M`
    head += ` ${e.done}/${e.total}${e.unit ? ' ' + e.unit : ''} (${(100 * frac).toFixed(1)}%)`;
  } else {
    head += ` ${e.done}${e.unit ? ' ' + e.unit : ''}`;
  }
  parts.push(head);
  const rate = formatRate(e.done, seconds, e.unit);
  if (rate) parts.push(rate);
  const eta = formatEta(e.done, e.total, seconds);
  if (eta) parts.push(`ETA ${eta}`);
  if (e.message) parts.push(e.message);
  return parts.join(' | ');
}
