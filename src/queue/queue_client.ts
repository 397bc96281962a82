// The BullMQ queue of grid cells, opened after a checked connection.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullConnection, checkRedis, parseRedisUrl, type RedisTarget } from './redis_url.js';
import { QUEUE_NAME, type CellJobData, type CellJobResult } from './cell_job.js';

export type CellQueue = Queue<CellJobData, CellJobResult>;

export interface OpenQueue {
  target: RedisTarget;
  queue: CellQueue;
  /** A plain client for the cells' stored files. */
  redis: Redis;
  close(): Promise<void>;
}

export async function openQueue(url: string): Promise<OpenQueue> {
  const target = parseRedisUrl(url);
  await checkRedis(target);
  const queue: CellQueue = new Queue(QUEUE_NAME, { connection: bullConnection(target) });
  const redis = new Redis(bullConnection(target));
  return {
    target, queue, redis,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
