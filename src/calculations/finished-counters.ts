import { FINISHED_STATES, type FinishedState } from "../athena/calculation.js";
import { isSaneDpuSeconds } from "../athena/parse.js";
import { WorkgroupCounters } from "../exposition/workgroup-counters.js";
import { NOTHING_HIDDEN, renderFamilies } from "../exposition/text-format.js";
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

type Key = FinishedState | "dpu";

/**
 * The calculation counters per workgroup, born at 0 (WorkgroupCounters):
 * finishes by final state, and DPU-seconds of finished calculations.
 */
export class FinishedCounters {
  readonly #counters = new WorkgroupCounters<Key>([...FINISHED_STATES, "dpu"]);

  /** Ensures a workgroup's series exist (at 0) from the next exposition on. */
  declare(workgroup: string): void {
    this.#counters.declare(workgroup);
  }

  addFinished(workgroup: string, state: FinishedState): void {
    this.#counters.add(workgroup, state, 1);
  }

  /** Adds DPU-seconds; refuses (and returns false for) a figure that is not finite and sane, which would poison the counter for good. */
  addDpuSeconds(workgroup: string, seconds: number): boolean {
    if (!isSaneDpuSeconds(seconds)) return false;
    this.#counters.add(workgroup, "dpu", seconds);
    return true;
  }

  /** Renders both families; it releases what waited for a first exposition, so call it once per scrape, whatever `hidden` leaves out. */
  expose(hidden: ReadonlySet<string> = NOTHING_HIDDEN): string {
    const workgroups = this.#counters.expose();
    return renderFamilies(
      FINISHED_FAMILIES,
      FINISHED_FAMILIES.map((family) =>
        workgroups.map(([workgroup, values]) => family.render({ workgroup, finished: values, dpuSeconds: values.dpu })),
      ),
      hidden,
    );
  }
}
