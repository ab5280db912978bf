/** Test helper shared by the test files: the InputError a call throws. */
import assert from 'node:assert/strict';
import { InputError } from './errors.js';

/** Run `fn`, assert it throws an InputError, and return it (for checks on its message). */
export function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}
