/** The Redis behind the queues: `redis://[user:password@]host:port[/db]` → connection options. */
import { createRequire } from 'node:module';
import { InputError } from '../util/errors.js';

export interface RedisOptions {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  /** null: a command waits through a Redis restart instead of failing (BullMQ requires it for workers). */
  maxRetriesPerRequest: null;
}

export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--queue ${url} is not a URL`, { expected: 'redis://HOST:PORT' });
  }
  if (u.protocol !== 'redis:') throw new InputError(`--queue ${url}: unsupported scheme ${u.protocol}`, { expected: 'redis://HOST:PORT' });
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new InputError(`--queue ${url}: database ${u.pathname.slice(1)} is not a number`, { expected: 'redis://HOST:PORT/DB' });
  return {
    host: u.hostname || '127.0.0.1',
    port,
    ...(db !== undefined ? { db } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

/** BullMQ 6 talks to Redis through the ioredis package, which it does not install itself: fail once, clearly. */
export function assertRedisClient(): void {
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    throw new Error("the queue needs BullMQ's Redis client, the ioredis package, which is not installed (npm install ioredis)");
  }
}
