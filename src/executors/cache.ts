import type { AthenaApi } from "../athena/client.js";
import { err, ok } from "../result.js";
import { RefreshingCache, type CacheOptions } from "../refreshing-cache.js";
import { isSessionEnded, type Session } from "../athena/session.js";
import { isExecutorEnded, type Executor } from "../athena/executor.js";

/** What the exporter knows of one session's executors, as of its last good listing. */
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
  /** The executors this listing showed new or changed: what the owner counts failures from. */
  readonly changed: readonly ExecutorChange[];
}

/** An executor a listing showed new or changed, with what was known of it before. */
export interface ExecutorChange {
  readonly sessionId: string;
  readonly workgroup: string;
  readonly executor: Executor;
  readonly before: Executor | undefined;
}

export type ExecutorCache = RefreshingCache<ExecutorsEntry>;

/** Every this-many listings of a session is a full one: it catches a long-lived executor (coordinator, gateway) ending. */
const FULL_LISTING_EVERY = 10;
/** Ended executors kept per session; older ones are let go (their counts stay in `dropped`). */
const MAX_ENDED_KEPT = 1000;

/**
 * The executors of the sessions a target watches, listed with ListExecutors
 * through the refreshing cache, as sessions are fetched: an active session's
 * again after the TTL, an ended one's in full once more and then never again.
 *
 * A listing is incremental. Athena lists the newest first, so a listing
 * stops at the first executor already known as ended that started before
 * every worker still running: all after it are older, ended, and known. The
 * session's coordinator (and a gateway) run from its start, so they are
 * looked at again only by a full listing: every FULL_LISTING_EVERY-th one,
 * and the last, once the session has ended.
 *
 * It says what changed rather than counting: the owner decides what a
 * failure counts for (its shard, since when it watched).
 */
export function executorCache(
  api: AthenaApi,
  /** What is known of a session (its workgroup and whether it ended), without fetching it. */
  sessionOf: (id: string) => Session | undefined,
  options: CacheOptions,
): ExecutorCache {
  return new RefreshingCache<ExecutorsEntry>(
    {
      logKey: "session_id",
      noun: "executor listing",
      isSettled: (entry) => entry.final,
      keepSettled: (entry) => entry,
      async fetch(id, stale, signal) {
        const session = sessionOf(id);
        if (session === undefined) return err({ code: "Other", message: "the session is not known yet" });
        const ended = isSessionEnded(session.state);
        const previous = stale?.value;
        const known = previous?.executors ?? new Map<string, Executor>();
        const forgottenBefore = previous?.forgottenBefore ?? -Infinity;
        const listings = previous?.listings ?? 0;
        const full = ended || listings % FULL_LISTING_EVERY === 0;
        let oldestRunningWorker = Infinity;
        for (const e of known.values())
          if (e.type === "WORKER" && !isExecutorEnded(e.state)) oldestRunningWorker = Math.min(oldestRunningWorker, e.startedAt);
        const stopAt = (e: Executor): boolean => {
          if (e.startedAt >= oldestRunningWorker) return false;
          const k = known.get(e.id);
          return k === undefined ? e.startedAt <= forgottenBefore : isExecutorEnded(k.state);
        };
        const answer = await api.listExecutors(id, signal, full ? undefined : stopAt);
        if (!answer.ok) return answer;
        const next = new Map(known);
        const listed = new Set<string>();
        const changed: ExecutorChange[] = [];
        for (const executor of answer.value) {
          listed.add(executor.id);
          const before = known.get(executor.id);
          if (before === undefined && executor.startedAt <= forgottenBefore) continue; // seen, ended and let go
          if (before !== undefined && (isExecutorEnded(before.state) || sameExecutor(before, executor))) continue;
          next.set(executor.id, executor);
          changed.push({ sessionId: id, workgroup: session.workgroup, executor, before });
        }
        // A full listing is the whole truth: a running executor Athena no longer lists holds nothing.
        if (full) for (const [eid, e] of known) if (!listed.has(eid) && !isExecutorEnded(e.state)) next.delete(eid);
        const kept = letGo(next, previous?.dropped ?? new Map(), forgottenBefore);
        // An ended session's executors, listed in full, never change again.
        return ok({ sessionId: id, workgroup: session.workgroup, ...kept, listings: listings + 1, final: ended, changed });
      },
    },
    options,
  );
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
