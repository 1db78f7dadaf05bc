import { LRUCache } from "lru-cache";
import { isFinished, type Calculation } from "../athena/calculation.js";
import type { FinishedCounters } from "./finished-counters.js";
import type { FinishedHistograms } from "./finished-histograms.js";

/**
 * What this process knows of one calculation's finish:
 * - "running": seen unfinished, so its finish will happen under our eyes;
 * - "before": first seen already finished before this process started
 *   watching, so never counted;
 * - "counted": its finish is counted, its DPU figure not yet in;
 * - "done": finish and DPU counted.
 */
type Seen = "running" | "before" | "counted" | "done";

/**
 * Decides what the aggregate counters count: only finishes this process saw
 * happen. A calculation counts when it was seen unfinished before, or when
 * Athena says it completed after the exporter began to watch it (its
 * workgroup or its ID, at start or on the reload that added it). So a
 * restart or a reload never makes increase() count a finish that happened
 * before; the per-calculation series stay the record of the past. The
 * histograms of finished calculations observe exactly what the counters
 * count, so their counts and sums agree with the counters.
 */
export class FinishTally {
  readonly #seen: LRUCache<string, Seen>;

  constructor(
    private readonly counters: FinishedCounters,
    private readonly histograms: FinishedHistograms,
    maxEntries: number,
  ) {
    // Outlives evictions and reloads that drop a calculation: a finish is counted once.
    this.#seen = new LRUCache<string, Seen>({ max: maxEntries });
  }

  /** Feeds one successful refresh of a calculation watched since `watchedSince` (Unix seconds). */
  observe(calculation: Calculation, workgroup: string, watchedSince: number): void {
    this.counters.declare(workgroup);
    this.histograms.declare(workgroup);
    const { id } = calculation;
    const seen = this.#seen.get(id);
    if (!isFinished(calculation.state)) {
      if (seen === undefined) this.#seen.set(id, "running");
      return;
    }
    if (seen === "before" || seen === "done") return;
    if (seen === undefined) {
      const completedAt = calculation.completedAt;
      if (completedAt === undefined || completedAt < watchedSince) {
        this.#seen.set(id, "before");
        return;
      }
    }
    if (seen !== "counted") {
      this.counters.addFinished(workgroup, calculation.state);
      const { submittedAt, completedAt } = calculation;
      if (submittedAt !== undefined && completedAt !== undefined) {
        // As the per-calculation duration rounds it: epoch seconds subtract with float noise.
        this.histograms.observeDuration(workgroup, calculation.state, Math.max(0, Math.round((completedAt - submittedAt) * 1000) / 1000));
      }
    }
    const dpu = calculation.dpuExecutionSeconds;
    if (dpu === undefined) {
      this.#seen.set(id, "counted");
      return;
    }
    if (this.counters.addDpuSeconds(workgroup, dpu)) this.histograms.observeDpuSeconds(workgroup, dpu);
    this.#seen.set(id, "done");
  }
}
