import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LRUCache } from "lru-cache";
import { refreshAll } from "../../src/refresh-all.js";

/** A cache as the exporter builds them, on a clock the test moves, counting its fetches. */
function cacheOnClock(ttl: number): { cache: LRUCache<string, { n: number }>; fetched: string[]; clock: { now: number } } {
  const clock = { now: 1_000 };
  const fetched: string[] = [];
  const cache = new LRUCache<string, { n: number }>({
    max: 10,
    ttl,
    ttlResolution: 0,
    perf: { now: () => clock.now },
    fetchMethod: (id) => {
      fetched.push(id);
      return Promise.resolve({ n: fetched.length });
    },
  });
  return { cache, fetched, clock };
}

const never = new AbortController().signal;

describe("refreshAll", () => {
  it("fetches what is new or past its TTL, and counts a fresh entry as a hit without fetching it", async () => {
    const { cache, fetched, clock } = cacheOnClock(30_000);
    assert.deepEqual(await refreshAll(cache, ["a", "b"], never), { hits: 0, misses: 2 });
    assert.deepEqual(fetched, ["a", "b"]);

    clock.now += 29_999;
    assert.deepEqual(await refreshAll(cache, ["a", "b"], never), { hits: 2, misses: 0 });
    assert.deepEqual(fetched, ["a", "b"]);

    // lru-cache calls an entry stale once strictly more than its TTL has passed.
    clock.now += 2;
    assert.deepEqual(await refreshAll(cache, ["a", "b"], never), { hits: 0, misses: 2 });
    assert.deepEqual(fetched, ["a", "b", "a", "b"]);
    assert.equal(cache.get("a")?.n, 3);
  });

  it("fetches an entry made due on purpose (as CalculationCache.expire does) though its TTL has not passed", async () => {
    const { cache, fetched } = cacheOnClock(30_000);
    await refreshAll(cache, ["a"], never);
    const entry = cache.peek("a");
    assert.ok(entry !== undefined);
    cache.set("a", entry, { ttl: 1, start: 1 });
    await refreshAll(cache, ["a"], never);
    assert.deepEqual(fetched, ["a", "a"]);
  });

  it("waits for a fetch already in flight for a due entry, as a hit, rather than serving it as fresh", async () => {
    const clock = { now: 1_000 };
    let release: (() => void) | undefined;
    let fetches = 0;
    const cache = new LRUCache<string, { n: number }>({
      max: 10,
      ttl: 30_000,
      ttlResolution: 0,
      perf: { now: () => clock.now },
      fetchMethod: () => {
        fetches++;
        return new Promise((resolve) => (release = () => resolve({ n: fetches })));
      },
    });
    const first = refreshAll(cache, ["a"], never);
    release?.();
    await first;
    clock.now += 30_001;
    const second = refreshAll(cache, ["a"], never);
    // Another scrape meanwhile joins the fetch in flight, and both wait for its answer.
    const third = refreshAll(cache, ["a"], never);
    release?.();
    assert.deepEqual(await second, { hits: 0, misses: 1 });
    assert.deepEqual(await third, { hits: 1, misses: 0 });
    assert.equal(fetches, 2);
    assert.equal(cache.peek("a")?.n, 2);
  });

  it("starts no more fetches at once than it is paced to, and goes on feeding them after the deadline", async () => {
    let open = 0;
    let most = 0;
    const cache = new LRUCache<string, { n: number }>({
      max: 100,
      ttl: 30_000,
      fetchMethod: async () => {
        open++;
        most = Math.max(most, open);
        await new Promise((resolve) => setTimeout(resolve, 5));
        open--;
        return { n: 1 };
      },
    });
    const ids = Array.from({ length: 40 }, (_, i) => `id-${i}`);
    const deadline = AbortSignal.timeout(12);
    const answer = await refreshAll(cache, ids, deadline, { aheadMs: 0, atOnce: 4 });
    assert.deepEqual(answer, { hits: 0, misses: 40 });
    assert.ok(cache.size < 40, "the deadline came before all were fetched");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(most, 4, "four at once, no more");
    assert.equal(cache.size, 40, "what the scrape did not wait for landed in the cache for the next one");
  });

  it("fetches now what is fresh but would be stale by the next scrape", async () => {
    const { cache, fetched, clock } = cacheOnClock(30_000);
    await refreshAll(cache, ["a", "b"], never);
    clock.now += 15_000;
    cache.fetch("b", { forceRefresh: true }).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    fetched.length = 0;
    // "a" has 15 s of its TTL left, "b" 30 s; the next scrape comes in 20 s.
    assert.deepEqual(await refreshAll(cache, ["a", "b"], never, { aheadMs: 20_000, atOnce: 10 }), { hits: 1, misses: 1 });
    assert.deepEqual(fetched, ["a"]);
  });
});
