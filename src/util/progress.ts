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
