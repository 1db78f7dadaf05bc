import { LRUCache } from "lru-cache";
import { WorkgroupCounters } from "../exposition/workgroup-counters.js";
import { NOTHING_HIDDEN, renderFamilies } from "../exposition/text-format.js";
import type { ExecutorChange } from "./cache.js";
import { isExecutorEnded } from "../athena/executor.js";
import { EXECUTOR_COUNTER_FAMILIES } from "./metrics.js";

/**
 * What this process knows of one executor's end:
 * - "running": seen not ended, so its end happens under our eyes;
 * - "before": first seen ended before this process watched its session, so never counted;
 * - "ended": its end is decided (counted if it FAILED).
 */
type Seen = "running" | "before" | "ended";

/**
 * Counts executors that went FAILED, as FinishTally counts finishes: only
 * what this process saw happen. An executor counts when it was seen running
 * before, or when its TerminationDateTime is after the exporter began to
 * watch its session (start, or the reload that added it); once, whatever
 * listings show it again. Its series are born at 0 (WorkgroupCounters).
 */
export class ExecutorFailureTally {
  readonly #seen: LRUCache<string, Seen>;
  readonly #counters = new WorkgroupCounters<"failed">(["failed"]);

  constructor(maxEntries: number) {
    // Outlives a session's entry being dropped and listed again: a failure is counted once.
    this.#seen = new LRUCache<string, Seen>({ max: maxEntries });
  }

  /** Ensures the workgroup's counter exists (at 0) from the next exposition on. */
  declare(workgroup: string): void {
    this.#counters.declare(workgroup);
  }

  /** Feeds one executor a listing showed new or changed, of a session watched since `watchedSince` (Unix seconds). */
  observe(change: ExecutorChange, watchedSince: number): void {
    const { executor, workgroup } = change;
    this.#counters.declare(workgroup);
    const key = `${change.sessionId}/${executor.id}`;
    const seen = this.#seen.get(key) ?? (change.before === undefined ? undefined : "running");
    if (seen === "before" || seen === "ended") return;
    if (!isExecutorEnded(executor.state)) {
      this.#seen.set(key, "running");
      return;
    }
    if (seen === undefined && (executor.endedAt === undefined || executor.endedAt < watchedSince)) {
      this.#seen.set(key, "before");
      return;
    }
    this.#seen.set(key, "ended");
    if (executor.state === "FAILED") this.#counters.add(workgroup, "failed", 1);
  }

  /** Renders the counter; it releases what waited for a workgroup's first exposition, so call it once per scrape. */
  expose(hidden: ReadonlySet<string> = NOTHING_HIDDEN): string {
    const workgroups = this.#counters.expose();
    return renderFamilies(
      EXECUTOR_COUNTER_FAMILIES,
      EXECUTOR_COUNTER_FAMILIES.map((family) =>
        workgroups.map(([workgroup, values]) => family.render({ workgroup, failed: values.failed })),
      ),
      hidden,
    );
  }
}
