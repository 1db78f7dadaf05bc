import type { LRUCache } from "lru-cache";

/**
 * Asks an lru-cache with a fetchMethod for every ID and waits for what had
 * to be fetched, or until `deadline` aborts: what is still in flight then
 * lands in the cache for the next scrape, and this one serves the last
 * known values. An entry still fresh but due within `aheadMs` (the time to
 * the next scrape) is fetched now, so no scrape serves data older than the
 * TTL and the calls do not bunch up every other scrape. Says how many
 * lookups the cache (or a request in flight) answered.
 */
export async function refreshAll<V extends object>(
  cache: LRUCache<string, V>,
  ids: Iterable<string>,
  deadline: AbortSignal,
  aheadMs = 0,
): Promise<{ hits: number; misses: number }> {
  const pending: Promise<unknown>[] = [];
  let hits = 0;
  let misses = 0;
  for (const id of ids) {
    // A fresh entry is a hit: answered without fetch()'s promise and option objects, which for the
    // hundreds of unfinished calculations of a warm scrape cost more than the rest of the refresh.
    // has() leaves the entry's place in the LRU order as it is, which is then the order of refreshes.
    // It decides only when more IDs are tracked than fit: never for calculations (no more than
    // maxEntries are tracked, the others are forgotten), and for sessions the one least recently
    // refreshed goes first rather than the one least recently asked for.
    const fresh = cache.has(id);
    if (fresh && (aheadMs <= 0 || cache.getRemainingTTL(id) > aheadMs)) {
      hits++;
      continue;
    }
    const status: LRUCache.Status<string, V> = {};
    const fetched = cache.fetch(id, { status, forceRefresh: fresh });
    if (status.fetch === "hit") {
      hits++;
      continue;
    }
    if (status.fetch === "inflight") hits++;
    else misses++;
    // Rejects only when the entry is evicted mid-flight; the next scrape asks again.
    pending.push(fetched.catch(() => undefined));
  }
  if (pending.length > 0 && !deadline.aborted) {
    await new Promise<void>((resolve) => {
      deadline.addEventListener("abort", () => resolve(), { once: true });
      Promise.all(pending).then(
        () => resolve(),
        () => resolve(),
      );
    });
  }
  return { hits, misses };
}
