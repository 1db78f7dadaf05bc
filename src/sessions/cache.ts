import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { AthenaApi } from "../athena/client.js";
import type { ApiError } from "../athena/errors.js";
import { refreshAll, type RefreshPace } from "../refresh-all.js";
import { isSessionSettled, type Session } from "../athena/session.js";

/** What the exporter knows of one session. */
export interface SessionEntry {
  /** The last good answer. */
  readonly session: Session | undefined;
  /** Unix seconds of the last successful fetch. */
  readonly refreshedAt: number | undefined;
  /** Set while the last refresh failed. */
  readonly error: ApiError | undefined;
}

export interface SessionCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly manualClock: boolean;
}

/**
 * The sessions a target watches, fetched with GetSession through an LRU
 * cache as calculations are: an active session again after the TTL, an
 * ended one with its DPU total never again. Sessions are few (hundreds for
 * many thousands of calculations), so they keep their data and are
 * rendered on each scrape.
 */
export class SessionCache {
  readonly #entries: LRUCache<string, SessionEntry>;
  #refreshed: Session[] = [];

  constructor(
    private readonly api: AthenaApi,
    private readonly options: SessionCacheOptions,
  ) {
    this.#entries = new LRUCache<string, SessionEntry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      perf: { now: options.now },
      ...(options.manualClock ? { ttlResolution: 0 } : {}),
      fetchMethod: (id, stale, { signal, options: setOptions }) => this.#refresh(id, stale, signal, setOptions),
    });
  }

  /** Every session refreshed since the last call, in order (the owner feeds its DPU counter from them). */
  takeRefreshed(): Session[] {
    const refreshed = this.#refreshed;
    this.#refreshed = [];
    return refreshed;
  }

  setTtl(ttlMs: number): void {
    this.#entries.ttl = ttlMs;
  }

  peek(id: string): SessionEntry | undefined {
    return this.#entries.peek(id, { allowStale: true });
  }

  /** The session's entry, fetched if it is absent or stale; undefined only if the fetch was abandoned. */
  fetch(id: string, signal: AbortSignal): Promise<SessionEntry | undefined> {
    return this.#entries.fetch(id, { signal });
  }

  /** Fetch `id` on the next refresh: the listing says it ended. A settled session is final. */
  expire(id: string): void {
    const entry = this.#entries.peek(id);
    if (entry !== undefined && !(entry.session !== undefined && isSessionSettled(entry.session))) {
      this.#entries.set(id, entry, { ttl: 1, start: 1 });
    }
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }

  refresh(ids: Iterable<string>, deadline: AbortSignal, pace?: RefreshPace): Promise<{ hits: number; misses: number }> {
    return refreshAll(this.#entries, ids, deadline, pace);
  }

  async #refresh(
    id: string,
    stale: SessionEntry | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, SessionEntry>["options"],
  ): Promise<SessionEntry> {
    let answer;
    try {
      answer = await this.api.getSession(id, signal);
    } catch (e) {
      answer = { ok: false as const, error: { code: "Other" as const, message: e instanceof Error ? e.message : String(e) } };
    }
    if (!answer.ok) {
      if (stale?.error?.code !== answer.error.code && answer.error.aborted !== true && !signal.aborted) {
        this.options.logger.warn({ session_id: id, error: answer.error.code, reason: answer.error.message }, "session refresh failed");
      }
      return { session: stale?.session, refreshedAt: stale?.refreshedAt, error: answer.error };
    }
    const session = answer.value;
    this.#refreshed.push(session);
    if (stale?.error !== undefined) this.options.logger.info({ session_id: id }, "session refresh recovered");
    // An ended session with its DPU total never changes again.
    setOptions.ttl = isSessionSettled(session) ? 0 : this.#entries.ttl;
    return { session, refreshedAt: this.options.now() / 1000, error: undefined };
  }
}
