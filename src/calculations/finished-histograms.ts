import { FINISHED_STATES, type FinishedState } from "../athena/calculation.js";
import { isSaneDpuSeconds } from "../athena/parse.js";
import { defineHistogram, type HistogramGenerator, type HistogramValues } from "../exposition/histogram-family.js";
import { keptText, type Precompressed } from "../exposition/gzip-body.js";
import { NOTHING_HIDDEN, renderFamilies } from "../exposition/text-format.js";
import { WorkgroupHistograms } from "../exposition/workgroup-histograms.js";

/**
 * Duration buckets, in seconds. Spark on Athena runs notebook cells of a
 * few seconds, ETL steps of minutes and batch jobs of hours, up to a day;
 * the bounds step by about 2 to 2.5 from 1 s to 24 h, so histogram_quantile
 * (which interpolates inside a bucket) is never off by more than about one
 * step, which is what "p95 doubled against last week" needs to be read
 * safely, in 15 buckets: 54 series per workgroup with three states.
 */
const DURATION_BOUNDS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

/**
 * DPU-second buckets: from a cell on one or two DPUs for a few seconds (10)
 * to a job holding hundreds of DPUs for hours (1,080,000 = 300 DPU-hours),
 * stepping by about 3. The duration says nothing of cost (the same hour
 * costs 2 DPU-hours on the coordinator alone and 100 with many executors),
 * and the DPU counter only says the total; this says which calculations
 * spent it, so it earns its 13 series per workgroup. It has no state label:
 * what a calculation cost is billed whatever its end, and the split would
 * triple the series for little.
 */
const DPU_BOUNDS = [10, 60, 300, 900, 3600, 10800, 36000, 108000, 360000, 1080000];

interface Exposed {
  readonly workgroup: string;
  readonly durations: Readonly<Record<FinishedState, HistogramValues>>;
  readonly dpu: HistogramValues;
}

/** The histogram families of finished calculations, in the order they are exposed; each renders one workgroup. */
export const FINISHED_HISTOGRAM_FAMILIES: readonly HistogramGenerator<Exposed>[] = [
  defineHistogram({
    name: "athena_calculations_finished_duration_seconds",
    help: "Submission-to-completion time of calculation executions seen finishing, by workgroup and final state; each execution is observed once.",
    doc: "submission-to-completion time of executions seen finishing, by final state; each observed once, fed as `athena_calculations_finished_total` is (buckets 1 s to 24 h)",
    labelNames: ["workgroup", "state"],
    bounds: DURATION_BOUNDS,
    generate: ({ workgroup, durations }) => FINISHED_STATES.map((state) => [[workgroup, state], durations[state]]),
  }),
  defineHistogram({
    name: "athena_calculations_finished_dpu_execution_seconds",
    help: "DPU-seconds of each calculation execution seen finishing, by workgroup; each execution is observed once.",
    doc: "DPU-seconds of each execution seen finishing, observed once when Athena gives its figure, fed as `athena_calculations_dpu_execution_seconds_total` is (buckets 10 DPU-s to 300 DPU-h)",
    labelNames: ["workgroup"],
    bounds: DPU_BOUNDS,
    generate: ({ workgroup, dpu }) => [[[workgroup], dpu]],
  }),
];

/**
 * The histograms of finished calculations per workgroup, born at 0
 * (WorkgroupHistograms), fed by FinishTally by the rule of the counters.
 * Their text is rendered when an observation changes them, not on every scrape.
 */
export class FinishedHistograms {
  readonly #durations = new WorkgroupHistograms<FinishedState>(FINISHED_STATES, DURATION_BOUNDS);
  readonly #dpu = new WorkgroupHistograms<"dpu">(["dpu"], DPU_BOUNDS);
  /** The last rendering, encoded: a scrape that changes nothing reuses it. */
  #body: { readonly hidden: ReadonlySet<string>; readonly text: Precompressed } | undefined;

  /** Ensures a workgroup's histograms exist (at 0) from the next exposition on. */
  declare(workgroup: string): void {
    this.#durations.declare(workgroup);
    this.#dpu.declare(workgroup);
  }

  /** Observes a finish; a duration Athena cannot give (no submission or completion time) is not observed. */
  observeDuration(workgroup: string, state: FinishedState, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#durations.observe(workgroup, state, seconds);
  }

  /** Observes a finished calculation's DPU figure; one that is not finite and sane is refused, as by the DPU counter. */
  observeDpuSeconds(workgroup: string, seconds: number): void {
    if (isSaneDpuSeconds(seconds)) this.#dpu.observe(workgroup, "dpu", seconds);
  }

  /** Both families' text, rendered again only when they changed since the last call (or `hidden` did), with its deflate piece made once. */
  expose(hidden: ReadonlySet<string> = NOTHING_HIDDEN): Precompressed {
    if (this.#body?.hidden === hidden && !this.#durations.changed() && !this.#dpu.changed()) return this.#body.text;
    const durations = new Map(this.#durations.expose());
    const workgroups = this.#dpu.expose().flatMap(([workgroup, { dpu }]) => {
      const byState = durations.get(workgroup);
      return byState === undefined ? [] : [{ workgroup, durations: byState, dpu }];
    });
    const text = renderFamilies(
      FINISHED_HISTOGRAM_FAMILIES,
      FINISHED_HISTOGRAM_FAMILIES.map((family) => workgroups.map((subject) => family.render(subject))),
      hidden,
    );
    this.#body = { hidden, text: keptText(Buffer.from(text, "utf8")) };
    return this.#body.text;
  }
}
