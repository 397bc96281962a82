// `--queue redis://[user:password@]host[:port][/db]` (rediss:// for TLS): parsed with one clear
// error for a malformed URL, and checked by a real round trip before any queue is built —
// ioredis on its own would retry an unreachable server forever and the command would hang.
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';

export interface RedisTarget {
  /** The URL as given, password hidden: for messages and logs. */
  display: string;
  options: RedisOptions;
}

const DEFAULT_PORT = 6379;

export function parseRedisUrl(url: string): RedisTarget {
  const expected = 'expected redis://[user:password@]host[:port][/db] or rediss://…';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: '${url}' is not a URL; ${expected}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: '${url}' has scheme '${u.protocol.replace(/:$/, '')}'; ${expected}`);
  if (!u.hostname) throw new Error(`--queue: '${url}' names no host; ${expected}`);
  const port = u.port ? Number(u.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--queue: '${url}': port must be 1–65535`);
  const path = u.pathname.replace(/^\/+/, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new Error(`--queue: '${url}': the path must be a database number (/0, /1, …), got '/${path}'`);
  if (u.search || u.hash) throw new Error(`--queue: '${url}': query strings and fragments are not understood; ${expected}`);
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: path === '' ? 0 : Number(path),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return { display: shown.toString(), options };
}

/** BullMQ's connection: a worker must wait out a Redis restart, never give up on a request. */
export function bullConnection(t: RedisTarget): RedisOptions & ConnectionOptions {
  return { ...t.options, maxRetriesPerRequest: null } as RedisOptions & ConnectionOptions;
}

/** One connection attempt and a PING, within `timeoutMs`; a clear error naming the URL otherwise. */
export async function checkRedis(t: RedisTarget, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...t.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ENOTFOUND, …) says more than ioredis's 'Connection is closed.'
  let socketError: Error | null = null;
  client.on('error', (e: Error) => (socketError ??= e));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && Number(version[1]) < 5) throw new Error(`Redis ${version[1]}.${version[2]} is too old: BullMQ needs Redis 5 or newer`);
  } catch (e) {
    const why = socketError ? (socketError as Error).message : (e as Error).message;
    throw new Error(`cannot use the queue at ${t.display}: ${why}`);
  } finally {
    client.disconnect();
  }
}
