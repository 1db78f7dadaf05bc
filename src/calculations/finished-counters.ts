import { FINISHED_STATES, type FinishedState } from "./calculation.js";
import { MAX_DPU_MILLIS } from "../athena/parse.js";
import { renderFamilies } from "../exposition/text-format.js";
import { defineFamily, type FamilyGenerator } from "../exposition/family-generator.js";

/** One workgroup's counts as exposed. */
interface ExposedCounts {
  readonly workgroup: string;
  readonly finished: Readonly<Record<FinishedState, number>>;
  readonly dpuSeconds: number;
}

/** The aggregate counter families, in the order they are exposed; each renders one workgroup. */
export const FINISHED_FAMILIES: readonly FamilyGenerator<ExposedCounts>[] = [
  defineFamily({
    name: "athena_calculations_finished_total",
    type: "counter",
    help: "Calculation executions seen finishing, by workgroup and final state; each execution is counted once.",
    doc: "executions seen finishing, by final state (COMPLETED, FAILED, CANCELED); each counted once",
    labelNames: ["workgroup", "state"],
    generate: ({ workgroup, finished }) => FINISHED_STATES.map((state) => [[workgroup, state], finished[state]]),
  }),
  defineFamily({
    name: "athena_calculations_dpu_execution_seconds_total",
    type: "counter",
    help: "DPU-seconds used by finished calculation executions, by workgroup; each execution is counted once.",
    doc: "DPU-seconds of finished executions; each counted once",
    labelNames: ["workgroup"],
    // Athena counts in milliseconds: rounding there drops float noise and keeps the counter monotonic.
    generate: ({ workgroup, dpuSeconds }) => [[[workgroup], Math.round(dpuSeconds * 1000) / 1000]],
  }),
];

interface WorkgroupCounts {
  finished: Record<FinishedState, number>;
  dpuSeconds: number;
  /** False until its zero-valued series have been exposed once. */
  exposed: boolean;
  pending: { finished: Record<FinishedState, number>; dpuSeconds: number };
}

const zeroes = (): Record<FinishedState, number> => ({ COMPLETED: 0, FAILED: 0, CANCELED: 0 });

/**
 * Aggregate counters per workgroup. A counter series that is born at 1 has
 * no earlier sample, so increase() and rate() never see that first step:
 * the first FAILED of a new workgroup would vanish. So a workgroup's series
 * are first exposed at 0 and its increments wait for the next exposition.
 */
export class FinishedCounters {
  readonly #byWorkgroup = new Map<string, WorkgroupCounts>();

  /** Ensures a workgroup's series exist (at 0) from the next exposition on. */
  declare(workgroup: string): WorkgroupCounts {
    let counts = this.#byWorkgroup.get(workgroup);
    if (counts === undefined) {
      counts = { finished: zeroes(), dpuSeconds: 0, exposed: false, pending: { finished: zeroes(), dpuSeconds: 0 } };
      this.#byWorkgroup.set(workgroup, counts);
    }
    return counts;
  }

  addFinished(workgroup: string, state: FinishedState): void {
    const counts = this.declare(workgroup);
    if (counts.exposed) counts.finished[state] += 1;
    else counts.pending.finished[state] += 1;
  }

  /** Adds DPU-seconds; refuses (and returns false for) a figure that is not finite and sane, which would poison the counter for good. */
  addDpuSeconds(workgroup: string, seconds: number): boolean {
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_DPU_MILLIS / 1000) return false;
    const counts = this.declare(workgroup);
    if (counts.exposed) counts.dpuSeconds += seconds;
    else counts.pending.dpuSeconds += seconds;
    return true;
  }

  /**
   * Renders both families and then releases what waited for a first
   * exposition, so it changes the counts: call it once per scrape, for the
   * text that scrape serves.
   */
  expose(): string {
    const workgroups = [...this.#byWorkgroup.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const bodies = FINISHED_FAMILIES.map((family) =>
      workgroups.map(([workgroup, counts]) => family.render({ workgroup, finished: counts.finished, dpuSeconds: counts.dpuSeconds })),
    );
    const text = renderFamilies(FINISHED_FAMILIES, bodies);
    for (const counts of this.#byWorkgroup.values()) {
      if (counts.exposed) continue;
      counts.exposed = true;
      for (const state of FINISHED_STATES) counts.finished[state] += counts.pending.finished[state];
      counts.dpuSeconds += counts.pending.dpuSeconds;
      counts.pending = { finished: zeroes(), dpuSeconds: 0 };
    }
    return text;
  }
}
