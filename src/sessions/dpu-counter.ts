import { LRUCache } from "lru-cache";
import { isSaneDpuSeconds } from "../athena/parse.js";
import { WorkgroupCounters } from "../exposition/workgroup-counters.js";
import { defineFamily, type FamilyGenerator } from "../exposition/family-generator.js";
import { NOTHING_HIDDEN, renderFamilies } from "../exposition/text-format.js";
import type { Session } from "../athena/session.js";

interface Exposed {
  readonly workgroup: string;
  readonly dpuSeconds: number;
}

export const SESSION_COUNTER_FAMILIES: readonly FamilyGenerator<Exposed>[] = [
  defineFamily({
    name: "athena_sessions_dpu_execution_seconds_total",
    type: "counter",
    help: "DPU-seconds the workgroup's sessions used while this exporter watched them, busy or idle: what Athena bills.",
    doc: "DPU-seconds the workgroup's sessions used while the exporter watched, counted as they accrue; a restart never counts the past again",
    labelNames: ["workgroup"],
    // Athena counts in milliseconds: rounding there drops float noise and keeps the counter monotonic.
    generate: ({ workgroup, dpuSeconds }) => [[[workgroup], Math.round(dpuSeconds * 1000) / 1000]],
  }),
];

export const PRICE_FAMILIES: readonly FamilyGenerator<number>[] = [
  defineFamily({
    name: "athena_dpu_hour_price_usd",
    type: "gauge",
    help: "The configured price of one DPU-hour in US dollars (cost.dpuHourPriceUsd); it differs by region.",
    doc: "the configured price of one DPU-hour (`cost.dpuHourPriceUsd`, default 0.35, the us-east-1 list price; it differs by region)",
    labelNames: [],
    generate: (price) => [[[], price]],
  }),
];

/**
 * DPU-seconds per workgroup, counted as sessions accrue them: each refresh
 * adds what a session used since the refresh before. A session that began
 * before the exporter began to watch it (at start, or on the reload that
 * added its workgroup) counts from its first sight, so a restart or a
 * reload never counts the past again; what accrues while no exporter
 * runs is not counted. Its series are born at 0 (WorkgroupCounters).
 */
export class SessionDpuCounter {
  readonly #last: LRUCache<string, number>;
  readonly #counters = new WorkgroupCounters<"dpu">(["dpu"]);

  constructor(maxSessions: number) {
    this.#last = new LRUCache<string, number>({ max: maxSessions });
  }

  /** Feeds one refresh of a session watched since `watchedSince` (Unix seconds: start, or the reload that added it). */
  observe(session: Session, watchedSince: number): void {
    this.#counters.declare(session.workgroup);
    const now = session.dpuExecutionSeconds;
    if (now === undefined || !isSaneDpuSeconds(now)) return;
    const last = this.#last.get(session.id) ?? (session.startedAt !== undefined && session.startedAt >= watchedSince ? 0 : now);
    this.#last.set(session.id, Math.max(last, now));
    if (now > last) this.#counters.add(session.workgroup, "dpu", now - last);
  }

  /** Renders the counter family; it releases what waited for a workgroup's first exposition, so call it once per scrape, whatever `hidden` leaves out. */
  expose(hidden: ReadonlySet<string> = NOTHING_HIDDEN): string {
    const workgroups = this.#counters.expose();
    return renderFamilies(
      SESSION_COUNTER_FAMILIES,
      SESSION_COUNTER_FAMILIES.map((family) =>
        workgroups.map(([workgroup, values]) => family.render({ workgroup, dpuSeconds: values.dpu })),
      ),
      hidden,
    );
  }
}
