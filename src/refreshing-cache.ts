import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { ApiError } from "./athena/errors.js";
import { refreshAll, type RefreshPace } from "./refresh-all.js";
import type { Result } from "./result.js";

/** What the exporter holds of one watched item (a calculation, a session). */
export interface Held<V> {
  /** The last good answer; once settled, only what the source keeps of it. */
  readonly value: V | undefined;
  /** Unix seconds of the last successful fetch. */
  readonly refreshedAt: number | undefined;
  /** Set while the last refresh failed. */
  readonly error: ApiError | undefined;
  /** Unix seconds of the first refresh in the current run of failures (the status page's "since"). */
  readonly failingSince: number | undefined;
  /** Will never change again: never fetched again. */
  readonly settled: boolean;
}

/**
 * What the cache learned, reported to its owner when asked rather than
 * called back in the middle of a refresh: the owner decides what follows
 * (render the item's lines again, count a finish, drop its text).
 */
export type CacheChange<V> =
  /** A refresh replaced the entry; `answer` is Athena's whole answer when it succeeded (a settled entry keeps less). */
  | { readonly kind: "updated"; readonly id: string; readonly held: Held<V>; readonly answer: V | undefined }
  /** The entry left the cache (forgotten or evicted). */
  | { readonly kind: "dropped"; readonly id: string };

/** How one kind of item is fetched, and when it stops changing. */
export interface ItemSource<V> {
  /** The label that names an item in log lines (`calculation_execution_id`, `session_id`). */
  readonly logKey: string;
  /** What log lines call the item ("calculation", "session"). */
  readonly noun: string;
  fetch(id: string, stale: Held<V> | undefined, signal: AbortSignal): Promise<Result<V, ApiError>>;
  isSettled(value: V): boolean;
  /** What a settled entry keeps of its answer: its text is kept by the exposition, so the rest need not be. */
  keepSettled(value: V): V;
}

export interface CacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  /** Milliseconds clock. */
  readonly now: () => number;
}

/**
 * Items fetched through an LRU cache: settled ones never expire, others
 * after the TTL, and concurrent refreshes of one item share one request
 * (lru-cache's fetch keeps one promise in flight per key). Whatever goes
 * wrong becomes a failed entry that keeps the last good answer, logged once
 * per change rather than once per scrape. It fetches and holds; it renders
 * nothing.
 */
export class RefreshingCache<V extends object> {
  readonly #entries: LRUCache<string, Held<V>>;
  #changes: CacheChange<V>[] = [];

  constructor(
    private readonly source: ItemSource<V>,
    private readonly options: CacheOptions,
  ) {
    this.#entries = new LRUCache<string, Held<V>>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      perf: { now: options.now },
      // Read the clock on every check rather than reuse a reading for a millisecond: only due items are checked.
      ttlResolution: 0,
      fetchMethod: (id, stale, { signal, options: setOptions }) => this.#refresh(id, stale, signal, setOptions),
      dispose: (_, id, reason) => {
        if (reason === "evict" || reason === "delete") this.#changes.push({ kind: "dropped", id });
      },
    });
  }

  /** What the cache learned since the last call, in order; the owner applies it before it renders. */
  takeChanges(): CacheChange<V>[] {
    const changes = this.#changes;
    this.#changes = [];
    return changes;
  }

  /** A new TTL for unsettled items, from the next fetch on. */
  setTtl(ttlMs: number): void {
    this.#entries.ttl = ttlMs;
  }

  peek(id: string): Held<V> | undefined {
    return this.#entries.peek(id, { allowStale: true });
  }

  /** The item's entry, fetched if it is absent or stale; undefined only if the fetch was abandoned. */
  fetch(id: string, signal: AbortSignal): Promise<Held<V> | undefined> {
    return this.#entries.fetch(id, { signal });
  }

  /**
   * Makes the next refresh fetch `id` whatever its age: a list call has
   * shown that it moved on. The last known values stay until then. A
   * settled item is left alone: it is final, so a listing that says
   * otherwise cannot be right.
   */
  expire(id: string): void {
    const entry = this.#entries.peek(id);
    if (entry !== undefined && !entry.settled) this.#entries.set(id, entry, { ttl: 1, start: 1 });
  }

  /** Drops everything held for `id`. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Brings every ID up to date, or as far as it gets before `deadline`
   * aborts (refresh-all.ts). Says how many lookups the cache (or a request
   * in flight) answered.
   */
  refresh(ids: Iterable<string>, deadline: AbortSignal, pace?: RefreshPace): Promise<{ hits: number; misses: number }> {
    return refreshAll(this.#entries, ids, deadline, pace);
  }

  async #refresh(
    id: string,
    stale: Held<V> | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, Held<V>>["options"],
  ): Promise<Held<V>> {
    let answer: Result<V, ApiError>;
    try {
      answer = await this.source.fetch(id, stale, signal);
    } catch (e) {
      answer = { ok: false, error: { code: "Other", message: e instanceof Error ? e.message : String(e) } };
    }
    // lru-cache aborts the fetch of an entry deleted (no longer watched) or replaced meanwhile, and drops
    // what it returns: an answer that lands then must reach no one.
    if (signal.aborted) return this.#failed(id, stale, { code: "Other", message: "the entry left the cache", aborted: true }, true);
    if (!answer.ok) {
      const held = this.#failed(id, stale, answer.error, false);
      this.#changes.push({ kind: "updated", id, held, answer: undefined });
      return held;
    }
    const value = answer.value;
    if (stale?.error !== undefined) this.options.logger.info({ [this.source.logKey]: id }, `${this.source.noun} refresh recovered`);
    const settled = this.source.isSettled(value);
    // A settled item never goes stale.
    setOptions.ttl = settled ? 0 : this.#entries.ttl;
    const held: Held<V> = {
      value: settled ? this.source.keepSettled(value) : value,
      refreshedAt: this.options.now() / 1000,
      error: undefined,
      failingSince: undefined,
      settled,
    };
    this.#changes.push({ kind: "updated", id, held, answer: value });
    return held;
  }

  #failed(id: string, stale: Held<V> | undefined, error: ApiError, abandoned: boolean): Held<V> {
    if (stale?.error?.code !== error.code && error.aborted !== true && !abandoned) {
      this.options.logger.warn(
        { [this.source.logKey]: id, error: error.code, reason: error.message },
        `${this.source.noun} refresh failed`,
      );
    }
    const now = this.options.now() / 1000;
    return {
      value: stale?.value,
      refreshedAt: stale?.refreshedAt,
      error,
      failingSince: stale?.error === undefined ? now : (stale.failingSince ?? now),
      // A settled entry is never fetched again, so `stale` is never settled here.
      settled: false,
    };
  }
}
