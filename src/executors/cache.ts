import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { AthenaApi } from "../athena/client.js";
import type { ApiError } from "../athena/errors.js";
import { refreshAll, type RefreshPace } from "../refresh-all.js";
import { isSessionEnded, type Session } from "../sessions/session.js";
import { isExecutorEnded, type Executor } from "./executor.js";

/** What the exporter knows of one session's executors. */
export interface ExecutorsEntry {
  readonly sessionId: string;
  readonly workgroup: string;
  /** The executors listed so far and still kept; an ended one never changes again. */
  readonly executors: ReadonlyMap<string, Executor>;
  /** Ended executors let go to bound memory, counted by "TYPE STATE", so the counts per state stay whole. */
  readonly dropped: ReadonlyMap<string, number>;
  /** The latest start (Unix seconds) of an executor let go: an unknown one started by then was seen before. */
  readonly forgottenBefore: number;
  /** Successful listings so far. */
  readonly listings: number;
  /** Listed in full after the session ended: it never changes again. */
  readonly final: boolean;
  /** Set while the last listing failed. */
  readonly error: ApiError | undefined;
}

/** An executor a listing showed new or changed, with what was known of it before. */
export interface ExecutorChange {
  readonly sessionId: string;
  readonly workgroup: string;
  readonly executor: Executor;
  readonly before: Executor | undefined;
}

export interface ExecutorCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly manualClock: boolean;
}

/** Every this-many listings of a session is a full one: it catches a long-lived executor (coordinator, gateway) ending. */
const FULL_LISTING_EVERY = 10;
/** Ended executors kept per session; older ones are let go (their counts stay in `dropped`). */
const MAX_ENDED_KEPT = 1000;

/**
 * The executors of the sessions a target watches, listed with ListExecutors
 * through an LRU cache, as sessions are fetched: an active session's again
 * after the TTL, an ended one's in full once more and then never again.
 *
 * A listing is incremental. Athena lists the newest first, so a listing
 * stops at the first executor already known as ended that started before
 * every worker still running: all after it are older, ended, and known. The
 * session's coordinator (and a gateway) run from its start, so they are
 * looked at again only by a full listing: every FULL_LISTING_EVERY-th one,
 * and the last, once the session has ended.
 *
 * It reports what changed rather than counting: the owner decides what a
 * failure counts for (its shard, since when it watched).
 */
export class ExecutorCache {
  readonly #entries: LRUCache<string, ExecutorsEntry>;
  #changes: ExecutorChange[] = [];

  constructor(
    private readonly api: AthenaApi,
    /** What is known of a session (its workgroup and whether it ended), without fetching it. */
    private readonly sessionOf: (id: string) => Session | undefined,
    private readonly options: ExecutorCacheOptions,
  ) {
    this.#entries = new LRUCache<string, ExecutorsEntry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      perf: { now: options.now },
      ...(options.manualClock ? { ttlResolution: 0 } : {}),
      fetchMethod: (id, stale, { signal, options: setOptions }) => this.#list(id, stale, signal, setOptions),
    });
  }

  /** Every executor new or changed since the last call, in order. */
  takeChanges(): ExecutorChange[] {
    const changes = this.#changes;
    this.#changes = [];
    return changes;
  }

  setTtl(ttlMs: number): void {
    this.#entries.ttl = ttlMs;
  }

  peek(id: string): ExecutorsEntry | undefined {
    return this.#entries.peek(id, { allowStale: true });
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }

  /** List again on the next refresh: the session ended, and its executors' last states are listed in full. Final entries stay. */
  expire(id: string): void {
    const entry = this.#entries.peek(id);
    if (entry !== undefined && !entry.final) this.#entries.set(id, entry, { ttl: 1, start: 1 });
  }

  refresh(ids: Iterable<string>, deadline: AbortSignal, pace?: RefreshPace): Promise<{ hits: number; misses: number }> {
    return refreshAll(this.#entries, ids, deadline, pace);
  }

  async #list(
    id: string,
    stale: ExecutorsEntry | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, ExecutorsEntry>["options"],
  ): Promise<ExecutorsEntry | undefined> {
    const session = this.sessionOf(id);
    if (session === undefined) return stale;
    const ended = isSessionEnded(session.state);
    const known = stale?.executors ?? new Map<string, Executor>();
    const forgottenBefore = stale?.forgottenBefore ?? -Infinity;
    const listings = stale?.listings ?? 0;
    const full = ended || listings % FULL_LISTING_EVERY === 0;
    let oldestRunningWorker = Infinity;
    for (const e of known.values())
      if (e.type === "WORKER" && !isExecutorEnded(e.state)) oldestRunningWorker = Math.min(oldestRunningWorker, e.startedAt);
    const stopAt = (e: Executor): boolean => {
      if (e.startedAt >= oldestRunningWorker) return false;
      const k = known.get(e.id);
      return k === undefined ? e.startedAt <= forgottenBefore : isExecutorEnded(k.state);
    };
    let answer;
    try {
      answer = await this.api.listExecutors(id, signal, full ? undefined : stopAt);
    } catch (e) {
      answer = { ok: false as const, error: { code: "Other" as const, message: e instanceof Error ? e.message : String(e) } };
    }
    if (!answer.ok) {
      if (stale?.error?.code !== answer.error.code && answer.error.aborted !== true && !signal.aborted) {
        this.options.logger.warn({ session_id: id, error: answer.error.code, reason: answer.error.message }, "executor listing failed");
      }
      const empty = {
        sessionId: id,
        workgroup: session.workgroup,
        executors: known,
        dropped: new Map(),
        forgottenBefore,
        listings,
        final: false,
      };
      return { ...(stale ?? empty), error: answer.error };
    }
    if (stale?.error !== undefined) this.options.logger.info({ session_id: id }, "executor listing recovered");
    const next = new Map(known);
    const listed = new Set<string>();
    for (const executor of answer.value) {
      listed.add(executor.id);
      const before = known.get(executor.id);
      if (before === undefined && executor.startedAt <= forgottenBefore) continue; // seen, ended and let go
      if (before !== undefined && (isExecutorEnded(before.state) || sameExecutor(before, executor))) continue;
      next.set(executor.id, executor);
      this.#changes.push({ sessionId: id, workgroup: session.workgroup, executor, before });
    }
    // A full listing is the whole truth: a running executor Athena no longer lists holds nothing.
    if (full) for (const [eid, e] of known) if (!listed.has(eid) && !isExecutorEnded(e.state)) next.delete(eid);
    const kept = letGo(next, stale?.dropped ?? new Map(), forgottenBefore);
    // An ended session's executors, listed in full, never change again.
    setOptions.ttl = ended ? 0 : this.#entries.ttl;
    return { sessionId: id, workgroup: session.workgroup, ...kept, listings: listings + 1, final: ended, error: undefined };
  }
}

const sameExecutor = (a: Executor, b: Executor): boolean =>
  a.state === b.state && a.size === b.size && a.endedAt === b.endedAt && a.type === b.type;

/** Lets the oldest ended executors go beyond MAX_ENDED_KEPT, keeping their counts. */
function letGo(
  executors: Map<string, Executor>,
  dropped: ReadonlyMap<string, number>,
  forgottenBefore: number,
): Pick<ExecutorsEntry, "executors" | "dropped" | "forgottenBefore"> {
  const ended = [...executors.values()].filter((e) => isExecutorEnded(e.state));
  if (ended.length <= MAX_ENDED_KEPT) return { executors, dropped, forgottenBefore };
  ended.sort((a, b) => a.startedAt - b.startedAt);
  const counts = new Map(dropped);
  let before = forgottenBefore;
  for (const e of ended.slice(0, ended.length - MAX_ENDED_KEPT)) {
    executors.delete(e.id);
    const key = `${e.type} ${e.state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    before = Math.max(before, e.startedAt);
  }
  return { executors, dropped: counts, forgottenBefore: before };
}
