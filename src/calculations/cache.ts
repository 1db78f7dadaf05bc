import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { AthenaApi } from "../athena/client.js";
import type { ApiError } from "../athena/errors.js";
import { isSettled, type Calculation, type CalculationState } from "../athena/calculation.js";
import { refreshAll, type RefreshPace } from "../refresh-all.js";
import type { Result } from "../result.js";

/** What the exporter knows of one calculation execution. */
export interface CalculationEntry {
  /** The last good answer while the calculation can still change; dropped once settled, when the exposition holds its text. */
  readonly calculation: Calculation | undefined;
  readonly state: CalculationState | undefined;
  readonly workgroup: string | undefined;
  /** Unix seconds of the last successful fetch. */
  readonly refreshedAt: number | undefined;
  /** Set while the last refresh failed. */
  readonly error: ApiError | undefined;
  /** Unix seconds of the first refresh in the current run of failures (the status page's "since"). */
  readonly failingSince?: number;
  /** Finished with its statistics in: never fetched again. */
  readonly settled: boolean;
}

/**
 * What the cache learned, reported to its owner when asked rather than
 * called back in the middle of a refresh: the owner decides what follows.
 */
export type CacheEvent =
  /** A successful refresh; `settled` once the calculation will never change again, so its text can be kept and its data is dropped. */
  | { readonly kind: "refreshed"; readonly calculation: Calculation; readonly workgroup: string; readonly settled: boolean }
  /** A settled calculation left the cache (forgotten or evicted). */
  | { readonly kind: "dropped"; readonly id: string };

/**
 * A session's workgroup, which never changes: looked up in discovery's
 * listing or the session cache (workgroup-directory.ts; one GetSession per
 * session, shared by all its calculations), so this cache keeps no copy.
 */
export type WorkgroupLookup = (sessionId: string, signal: AbortSignal) => Promise<Result<string, ApiError>>;

export interface CacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  /** Milliseconds clock. */
  readonly now: () => number;
  /** Whether the clock is moved by hand (tests): lru-cache must then read it every time. */
  readonly manualClock: boolean;
}

/**
 * The calculations a target watches, fetched through an LRU cache: settled
 * calculations never expire, others expire after the TTL, and concurrent
 * refreshes of one calculation share one request (lru-cache's fetch keeps
 * one promise in flight per key). It fetches and holds; it renders nothing.
 */
export class CalculationCache {
  readonly #entries: LRUCache<string, CalculationEntry>;
  #events: CacheEvent[] = [];

  constructor(
    private readonly api: AthenaApi,
    private readonly lookupWorkgroup: WorkgroupLookup,
    private readonly options: CacheOptions,
  ) {
    this.#entries = new LRUCache<string, CalculationEntry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      perf: { now: options.now },
      // lru-cache reuses one reading of the clock for 1 ms of real time.
      ...(options.manualClock ? { ttlResolution: 0 } : {}),
      fetchMethod: (id, stale, { signal, options: setOptions }) => this.#refreshSafely(id, stale, signal, setOptions),
      dispose: (entry, id) => {
        if (entry.settled) this.#events.push({ kind: "dropped", id });
      },
    });
  }

  /** What the cache learned since the last call, in order; the owner applies it before it renders. */
  takeEvents(): CacheEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** A new TTL for unfinished calculations, from the next fetch on. */
  setTtl(ttlMs: number): void {
    this.#entries.ttl = ttlMs;
  }

  peek(id: string): CalculationEntry | undefined {
    return this.#entries.peek(id, { allowStale: true });
  }

  /**
   * Makes the next refresh fetch `id` whatever its age: a list call has
   * shown that its state moved on. The last known values stay until then.
   * A settled calculation is left alone: its state is final, so a listing
   * that says otherwise cannot be right.
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
   * aborts: what is still in flight then lands in the cache for the next
   * scrape, and this one serves the last known values. Says how many
   * lookups the cache (or a request in flight) answered.
   */
  refresh(ids: readonly string[], deadline: AbortSignal, pace?: RefreshPace): Promise<{ hits: number; misses: number }> {
    return refreshAll(this.#entries, ids, deadline, pace);
  }

  /** Whatever goes wrong becomes a failed entry: a calculation never vanishes, nor is fetched on every scrape. */
  async #refreshSafely(
    id: string,
    stale: CalculationEntry | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, CalculationEntry>["options"],
  ): Promise<CalculationEntry> {
    try {
      return await this.#refresh(id, stale, signal, setOptions);
    } catch (e) {
      return this.#failed(id, stale, { code: "Other", message: e instanceof Error ? e.message : String(e) }, signal);
    }
  }

  async #refresh(
    id: string,
    stale: CalculationEntry | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, CalculationEntry>["options"],
  ): Promise<CalculationEntry> {
    const answer = await this.api.getCalculation(id, signal);
    if (!answer.ok) return this.#failed(id, stale, answer.error, signal);
    const calculation = answer.value;

    let workgroup = stale?.workgroup;
    if (workgroup === undefined) {
      const found = await this.lookupWorkgroup(calculation.sessionId, signal);
      if (!found.ok) return this.#failed(id, stale, found.error, signal);
      workgroup = found.value;
    }

    // lru-cache aborts the fetch of an entry deleted (forgotten: no longer tracked) or replaced meanwhile, and
    // drops what it returns: an answer that lands then must not reach the counters or the settled text either.
    if (signal.aborted) return this.#failed(id, stale, { code: "Other", message: "the entry left the cache", aborted: true }, signal);
    const settled = isSettled(calculation);
    this.#events.push({ kind: "refreshed", calculation, workgroup, settled });
    if (stale?.error !== undefined) {
      this.options.logger.info({ calculation_execution_id: id }, "calculation refresh recovered");
    }
    const refreshedAt = this.options.now() / 1000;
    // A settled calculation never changes again: it never goes stale, and
    // its text, which the exposition keeps, is all that needs keeping.
    if (settled) {
      setOptions.ttl = 0;
      return { calculation: undefined, state: calculation.state, workgroup, refreshedAt, error: undefined, settled: true };
    }
    setOptions.ttl = this.#entries.ttl;
    return { calculation, state: calculation.state, workgroup, refreshedAt, error: undefined, settled: false };
  }

  #failed(id: string, stale: CalculationEntry | undefined, error: ApiError, signal: AbortSignal): CalculationEntry {
    if (stale?.error?.code !== error.code && error.aborted !== true && !signal.aborted) {
      // Logged once per change, not once per scrape.
      this.options.logger.warn({ calculation_execution_id: id, error: error.code, reason: error.message }, "calculation refresh failed");
    }
    return {
      calculation: stale?.calculation,
      state: stale?.state,
      workgroup: stale?.workgroup,
      refreshedAt: stale?.refreshedAt,
      error,
      failingSince: stale?.error === undefined ? this.options.now() / 1000 : (stale.failingSince ?? this.options.now() / 1000),
      // A settled entry is never fetched again, so `stale` is never settled here.
      settled: false,
    };
  }
}
