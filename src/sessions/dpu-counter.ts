import { LRUCache } from "lru-cache";
import { MAX_DPU_MILLIS } from "../athena/parse.js";
import { defineFamily, type FamilyGenerator } from "../exposition/family-generator.js";
import { renderFamilies } from "../exposition/text-format.js";
import type { Session } from "./session.js";

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

interface Counts {
  dpuSeconds: number;
  /** False until the workgroup's series has been exposed once, at 0. */
  exposed: boolean;
  pending: number;
}

/**
 * DPU-seconds per workgroup, counted as sessions accrue them: each refresh
 * adds what a session used since the refresh before. A session first seen
 * after it began before the exporter started counts from that first sight,
 * so a restart never counts the past again; what accrues while no exporter
 * runs is not counted. As with the calculation counters, a workgroup's
 * series first shows at 0, so increase() sees its first step.
 */
export class SessionDpuCounter {
  readonly #last: LRUCache<string, number>;
  readonly #byWorkgroup = new Map<string, Counts>();

  constructor(
    /** Unix seconds: when this target started watching. */
    private readonly startedAt: number,
    maxSessions: number,
  ) {
    this.#last = new LRUCache<string, number>({ max: maxSessions });
  }

  observe(session: Session): void {
    const counts = this.#declare(session.workgroup);
    const now = session.dpuExecutionSeconds;
    if (now === undefined || !Number.isFinite(now) || now < 0 || now > MAX_DPU_MILLIS / 1000) return;
    const last = this.#last.get(session.id) ?? (session.startedAt !== undefined && session.startedAt >= this.startedAt ? 0 : now);
    this.#last.set(session.id, Math.max(last, now));
    const added = now - last;
    if (added <= 0) return;
    if (counts.exposed) counts.dpuSeconds += added;
    else counts.pending += added;
  }

  /** Renders the counter family, then releases what waited for a workgroup's first exposition. */
  expose(): string {
    const workgroups = [...this.#byWorkgroup.keys()].sort();
    const text = renderFamilies(
      SESSION_COUNTER_FAMILIES,
      SESSION_COUNTER_FAMILIES.map((family) =>
        workgroups.map((workgroup) => family.render({ workgroup, dpuSeconds: this.#byWorkgroup.get(workgroup)?.dpuSeconds ?? 0 })),
      ),
    );
    for (const counts of this.#byWorkgroup.values()) {
      if (counts.exposed) continue;
      counts.exposed = true;
      counts.dpuSeconds += counts.pending;
      counts.pending = 0;
    }
    return text;
  }

  #declare(workgroup: string): Counts {
    let counts = this.#byWorkgroup.get(workgroup);
    if (counts === undefined) {
      counts = { dpuSeconds: 0, exposed: false, pending: 0 };
      this.#byWorkgroup.set(workgroup, counts);
    }
    return counts;
  }
}
