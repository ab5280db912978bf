import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkParams, closestName, describeRange, flagHelp, flagOf, parseFlag, specDefaults, zodShape, type ParamSpec } from './param-spec.js';
import { z } from 'zod';
import { InputError } from './errors.js';
import { PROBE_PARAM_SPEC } from '../probe/params.js';
import { DEFAULT_PROBE_PARAMS, LogisticProbe } from '../probe/linear-probe.js';

const SPEC = [
  { name: 'maxEpochs', type: 'integer', min: 1, default: 10, help: 'epochs' },
  { name: 'tol', type: 'number', min: 0, minExclusive: true, max: 1, default: 1e-4, help: 'tolerance' },
  { name: 'form', type: 'enum', choices: ['norm', 'squared'], default: 'norm', help: 'form' },
] as const satisfies readonly ParamSpec[];

test('param spec: one declaration gives validation, defaults, the zod schema and the CLI flags', () => {
  assert.deepEqual(specDefaults(SPEC), { maxEpochs: 10, tol: 1e-4, form: 'norm' });
  assert.equal(describeRange(SPEC[0]), 'an integer ≥ 1');
  assert.equal(describeRange(SPEC[1]), 'a finite number > 0 and ≤ 1');
  checkParams(SPEC, { maxEpochs: 3, tol: 0.5, form: 'squared' }, 'test parameter');
  assert.throws(() => checkParams(SPEC, { maxEpochs: 1.5 }, 'test parameter'), /invalid test parameter maxEpochs=1.5.*an integer ≥ 1/s);
  assert.throws(() => checkParams(SPEC, { tol: 0 }, 'test parameter'), (e: unknown) => e instanceof InputError && /tol=0/.test(e.message));
  assert.throws(() => checkParams(SPEC, { form: 'l2' }, 'test parameter'), /form='l2'.*one of 'norm', 'squared'/s);
  assert.throws(() => checkParams(SPEC, { maxEpoch: 3 }, 'test parameter'), /unknown test parameter 'maxEpoch' \(did you mean 'maxEpochs'\?\)/);
  assert.throws(() => checkParams(SPEC, { zzzzzz: 3 }, 'test parameter'), (e: unknown) => e instanceof InputError && !/did you mean/.test(e.message));
  const schema = z.object(zodShape(SPEC, { tol: 1e-3 })).strict();
  assert.deepEqual(schema.parse({}), { maxEpochs: 10, tol: 1e-3, form: 'norm' });
  assert.equal(schema.safeParse({ maxEpochs: 0 }).success, false);
  assert.equal(schema.safeParse({ tol: 2 }).success, false);
  assert.equal(flagOf(SPEC[0]), '--max-epochs <n>');
  assert.equal(flagHelp(SPEC[1]), 'tolerance; a finite number > 0 and ≤ 1 (default: 0.0001)');
  assert.equal(parseFlag(SPEC[0], '7'), 7);
  assert.throws(() => parseFlag(SPEC[0], '7.5'), /--max-epochs '7.5'/);
  assert.throws(() => parseFlag(SPEC[1], ''), InputError);
  assert.equal(closestName('stried', ['stride', 'percentage']), 'stride');
});

test('probe parameters: the defaults are the spec, the constructor checks names and ranges against it', () => {
  assert.deepEqual({ ...DEFAULT_PROBE_PARAMS }, specDefaults(PROBE_PARAM_SPEC));
  assert.equal(DEFAULT_PROBE_PARAMS.tol, 1e-4);
  assert.equal(DEFAULT_PROBE_PARAMS.maxEpochs, 10);
  assert.throws(() => new LogisticProbe({ tol: 0 }), /invalid probe parameter tol=0.*> 0/s);
  assert.throws(() => new LogisticProbe({ engine: 'gpu' as never }), /engine='gpu'.*'auto', 'int8', 'float'/s);
  assert.throws(() => new LogisticProbe({ maxEpoch: 5 } as never), /unknown probe parameter 'maxEpoch' \(did you mean 'maxEpochs'\?\)/);
});
