import type { LRUCache } from "lru-cache";

/** How far ahead a refresh looks, and how many fetches it starts at once. */
export interface RefreshPace {
  /** The time to the next scrape: what would be stale by then is fetched now. */
  readonly aheadMs: number;
  /** Enough to keep every request slot busy (aws.maxConcurrency), few enough that a cold start stays small. */
  readonly atOnce: number;
  /**
   * At most this many fetches per refresh, the stalest first; the others wait
   * for a later one. For what a rate limit could not fetch before the next
   * scrape anyway: queued behind it, they would hold the limit (and whoever
   * shares it) for minutes.
   */
  readonly most?: number;
  /**
   * Called as each fetch lands, so that the owner can apply what the cache
   * learned while the rest are still coming (the feeding goes on after the
   * deadline, between scrapes), rather than a cold start's worth at once.
   */
  readonly landed?: () => void;
}

/**
 * Asks an lru-cache with a fetchMethod for every ID and waits for what had
 * to be fetched, or until `deadline` aborts: what is still in flight then
 * lands in the cache for the next scrape, and this one serves the last
 * known values. An entry still fresh but due before the next scrape is
 * fetched now, so no scrape serves data older than the TTL and the calls
 * do not bunch up every other scrape. Says how many lookups the cache (or
 * a request in flight) answered.
 */
export async function refreshAll<V extends object>(
  cache: LRUCache<string, V>,
  ids: Iterable<string>,
  deadline: AbortSignal,
  pace: RefreshPace = { aheadMs: 0, atOnce: Infinity },
): Promise<{ hits: number; misses: number }> {
  const { aheadMs, atOnce } = pace;
  const due: { readonly id: string; readonly force: boolean }[] = [];
  let hits = 0;
  for (const id of ids) {
    // A fresh entry is a hit: answered without fetch()'s promise and option objects, which for the
    // hundreds of unfinished calculations of a warm scrape cost more than the rest of the refresh.
    // has() leaves the entry's place in the LRU order as it is, which is then the order of refreshes.
    // It decides only when more IDs are tracked than fit: never for calculations (no more than
    // maxEntries are tracked, the others are forgotten), and for sessions the one least recently
    // refreshed goes first rather than the one least recently asked for.
    const fresh = cache.has(id);
    if (fresh && (aheadMs <= 0 || cache.getRemainingTTL(id) > aheadMs)) hits++;
    else due.push({ id, force: fresh });
  }
  if (due.length === 0) return { hits, misses: 0 };
  const most = pace.most ?? Infinity;
  if (due.length > most) {
    // Never fetched first, then the longest stale, so that every ID gets its turn.
    const waiting = (id: string): number => (cache.peek(id, { allowStale: true }) === undefined ? -Infinity : cache.getRemainingTTL(id));
    const left = new Map(due.map(({ id }) => [id, waiting(id)]));
    due.sort((a, b) => (left.get(a.id) ?? 0) - (left.get(b.id) ?? 0));
    due.length = most;
  }
  let inflight = 0;
  // A cold start makes every ID due at once: they are fed to the cache a bounded number at a time, so
  // the process never holds thousands of requests (and their promises, timers and buffers) together.
  // Feeding goes on after the deadline: what lands then is in the cache for the next scrape.
  const fed = new Promise<void>((resolve) => {
    let next = 0;
    let open = 0;
    const start = (): void => {
      for (let item = due[next]; open < atOnce && item !== undefined; item = due[++next]) {
        const { id, force } = item;
        const status: LRUCache.Status<string, V> = {};
        const fetched = cache.fetch(id, { status, forceRefresh: force });
        if (status.fetch === "hit") {
          inflight++;
          continue;
        }
        if (status.fetch === "inflight") inflight++;
        open++;
        // Rejects only when the entry is evicted mid-flight; the next scrape asks again.
        void fetched
          .catch(() => undefined)
          .finally(() => {
            open--;
            pace.landed?.();
            start();
          });
      }
      if (open === 0 && next >= due.length) resolve();
    };
    start();
  });
  if (!deadline.aborted) {
    await new Promise<void>((resolve) => {
      deadline.addEventListener("abort", () => resolve(), { once: true });
      void fed.then(() => resolve());
    });
  }
  return { hits: hits + inflight, misses: due.length - inflight };
}
