/** Test helper: a CliIO that records what a command prints instead of writing to the terminal. */
import type { CliIO } from './io.js';

export interface CapturedIO extends CliIO {
  /** Lines written to stdout / stderr, in order. */
  stdout: string[];
  stderr: string[];
  /** The same, joined as a terminal would show them (one line each). */
  readonly outText: string;
  readonly errText: string;
}

/** A CliIO whose output lands in arrays; progress is ignored. */
export function captureIO(): CapturedIO {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    get outText() {
      return stdout.map((t) => t + '\n').join('');
    },
    get errText() {
      return stderr.map((t) => t + '\n').join('');
    },
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    result: (v, json, human) => void stdout.push(json || !human ? JSON.stringify(v) : human()),
    progress: () => ({ onProgress: () => {}, done: () => {} }),
  };
}
