/**
 * Error types shared by the library and the CLI.
 *
 * User mistakes (bad files, bad flags, bad configs) are `InputError`s: the CLI prints their message without a
 * stack trace and exits with code 2. Anything else is an internal error (exit code 1).
 */

/** Where in a file a problem was found (1-based line, optional column). */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** A problem with what the user gave us: a file, a flag, a config key. Exit code 2. */
export class InputError extends Error {
  readonly exitCode = 2;
  readonly location?: SourceLocation;
  readonly expected?: string;

  constructor(message: string, opts: { location?: SourceLocation; expected?: string; cause?: unknown } = {}) {
    super(InputError.format(message, opts.location, opts.expected), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'InputError';
    this.location = opts.location;
    this.expected = opts.expected;
  }

  private static format(message: string, loc?: SourceLocation, expected?: string): string {
    let where = '';
    if (loc) {
      where = loc.file;
      if (loc.line !== undefined) where += `:${loc.line}`;
      if (loc.column !== undefined) where += `:${loc.column}`;
      where += ': ';
    }
    return `${where}${message}${expected ? ` (expected ${expected})` : ''}`;
  }
}

/** Bad command-line usage (unknown flag, missing argument). Exit code 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown when an estimator is used before `fit`. */
export class NotFittedError extends Error {
  constructor(what: string) {
    super(`${what} is not fitted yet: call fit() first`);
    this.name = 'NotFittedError';
  }
}

/** Exit code for an error: 2 for user errors, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  return err instanceof InputError ? 2 : 1;
}

/** Shorthand for a located input error. */
export function inputError(file: string, line: number | undefined, message: string, expected?: string): InputError {
  return new InputError(message, { location: { file, line }, expected });
}
