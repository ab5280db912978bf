import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisOptions } from './connection.js';
import { InputError } from '../util/errors.js';

test('--queue URLs become Redis connection options; anything else is an input error', () => {
  assert.deepEqual(redisOptions('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390, maxRetriesPerRequest: null });
  assert.deepEqual(redisOptions('redis://queue.lan'), { host: 'queue.lan', port: 6379, maxRetriesPerRequest: null });
  assert.deepEqual(redisOptions('redis://worker:s%40cret@10.0.0.5:7000/3'), {
    host: '10.0.0.5',
    port: 7000,
    db: 3,
    username: 'worker',
    password: 's@cret',
    maxRetriesPerRequest: null,
  });
  assert.deepEqual(redisOptions('redis://:pw@h:1'), { host: 'h', port: 1, password: 'pw', maxRetriesPerRequest: null });
  for (const bad of ['127.0.0.1:6379', 'http://h:1', 'redis://h:1/x']) {
    assert.throws(() => redisOptions(bad), (e: unknown) => e instanceof InputError && e.message.includes('--queue'), bad);
  }
});
