// Bounded-concurrency map. Decoding thousands of files with Promise.all would open them all
// at once (file-descriptor exhaustion, memory spikes); a fixed number of workers keeps sharp's
// thread pool busy without that.

import { availableParallelism } from 'node:os';

/**
 * Keeps libuv's 4 threads busy while JavaScript handles finished files (measured: 8 in flight
 * decodes small PNGs ~1.5× faster than 4 on 2 cores) without flooding memory.
 */
export function defaultConcurrency(): number {
  return Math.max(8, Math.min(16, availableParallelism() * 2));
}

/**
 * Calls `fn(item, index)` for every item with at most `limit` calls in flight and returns the
 * results in input order. The first rejection is rethrown after in-flight calls settle.
 * `onDone(done, total)` is called after each item completes.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onDone?: (done: number, total: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null) {
      const i = next++;
      if (i >= items.length) return;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
        return;
      }
      done++;
      onDone?.(done, items.length);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
