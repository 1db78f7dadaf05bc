import { CALCULATION_STATES, isFinished, type Calculation } from "../athena/calculation.js";
import type { RefreshErrorCode } from "../athena/errors.js";
import { truncateLabelValue } from "../exposition/text-format.js";
import { defineFamily, type FamilyGenerator } from "../exposition/family-generator.js";
import { withIdLabels } from "../exposition/id-labels.js";

/**
 * When a calculation is rendered: "settled" for one that will never change
 * (its text is kept as it is), else the clock and the time of its fetch.
 */
export type RenderTime = "settled" | { readonly nowSeconds: number; readonly refreshedAt: number };

/** What the exporter holds of one calculation when it renders it. */
export interface CalculationSubject {
  readonly id: string;
  /** Why the last refresh failed; undefined while it succeeds. */
  readonly error: RefreshErrorCode | undefined;
  /** The last good answer; undefined until Athena first answered. */
  readonly known: KnownCalculation | undefined;
}

export interface KnownCalculation {
  readonly calculation: Calculation;
  readonly workgroup: string;
  readonly time: RenderTime;
}

/** The labels that name a calculation's series; README's table lists only the labels beyond them. */
export const ID_LABELS = ["calculation_execution_id", "session_id", "workgroup"] as const;

/** A family of the known calculation: its samples carry the ID labels, then its own. */
const calculationFamily = withIdLabels(ID_LABELS, ({ known }: CalculationSubject) =>
  known === undefined ? undefined : { known, ids: [known.calculation.id, known.calculation.sessionId, known.workgroup] },
);

const one = <T>(x: T | undefined): readonly T[] => (x === undefined ? [] : [x]);

/**
 * The per-calculation families, in the order they are exposed. The settled
 * arena keeps one stream per family, at its index in this list.
 */
export const CALCULATION_FAMILIES: readonly FamilyGenerator<CalculationSubject>[] = [
  calculationFamily({
    name: "athena_calculation_state",
    type: "gauge",
    help: "Current state of the calculation execution: 1 for the state it is in, 0 for the other seven.",
    doc: "1 for the current state, 0 for the other seven (CREATING, CREATED, QUEUED, RUNNING, CANCELING, CANCELED, COMPLETED, FAILED)",
    labelNames: ["state"],
    generate: ({ calculation }) => CALCULATION_STATES.map((state) => [[state], state === calculation.state ? 1 : 0]),
  }),
  calculationFamily({
    name: "athena_calculation_info",
    type: "gauge",
    help: "Descriptive text of the calculation execution as labels; value is always 1.",
    doc: "always 1; text cut to 200 characters",
    labelNames: ["description", "working_directory", "result_type"],
    generate: ({ calculation: c }) => [
      [[truncateLabelValue(c.description), truncateLabelValue(c.workingDirectory), truncateLabelValue(c.result.resultType)], 1],
    ],
  }),
  calculationFamily({
    name: "athena_calculation_state_reason_info",
    type: "gauge",
    help: "Athena's StateChangeReason for the calculation's current state, when it gives one; value is always 1.",
    doc: "always 1, present when Athena gives a StateChangeReason (why it FAILED, say); cut to 200 characters",
    labelNames: ["state", "reason"],
    generate: ({ calculation: c }) => (c.stateChangeReason === "" ? [] : [[[c.state, truncateLabelValue(c.stateChangeReason)], 1]]),
  }),
  calculationFamily({
    name: "athena_calculation_result_info",
    type: "gauge",
    help: "Where the calculation's stderr, stdout and result lie in S3, once Athena gives them (when it has finished); value is always 1.",
    doc: 'always 1, present once Athena gives a result location (it does when the calculation has finished, COMPLETED or FAILED): `stderr_uri`, `stdout_uri` and `result_uri` are S3 URIs as the API allows them (s3://, S3:// or https://; "" when absent or not valid), for the dashboard\'s links to the logs and results',
    labelNames: ["stderr_uri", "stdout_uri", "result_uri"],
    generate: ({ calculation: { result: r } }) =>
      r.stdErrorS3Uri === "" && r.stdOutS3Uri === "" && r.resultS3Uri === "" ? [] : [[[r.stdErrorS3Uri, r.stdOutS3Uri, r.resultS3Uri], 1]],
  }),
  calculationFamily({
    name: "athena_calculation_dpu_execution_seconds",
    type: "gauge",
    help: "DPU time the calculation has used (DpuExecutionInMillis / 1000), in DPU-seconds.",
    doc: "DPU-seconds used (`DpuExecutionInMillis` / 1000), when Athena gives statistics",
    labelNames: [],
    generate: ({ calculation: c }) => one(c.dpuExecutionSeconds).map((v) => [[], v]),
  }),
  calculationFamily({
    name: "athena_calculation_duration_seconds",
    type: "gauge",
    help: "Completion minus submission time; for an unfinished calculation, now minus submission time.",
    doc: "completion minus submission; while unfinished, now minus submission",
    labelNames: [],
    generate: ({ calculation: c, time }) => {
      if (c.submittedAt === undefined) return [];
      const end = isFinished(c.state) ? c.completedAt : time === "settled" ? undefined : time.nowSeconds;
      return end === undefined ? [] : [[[], Math.max(0, roundMs(end - c.submittedAt))]];
    },
  }),
  calculationFamily({
    name: "athena_calculation_submission_timestamp_seconds",
    type: "gauge",
    help: "When the calculation was submitted, in Unix seconds.",
    doc: "submission time, Unix seconds",
    labelNames: [],
    generate: ({ calculation: c }) => one(c.submittedAt).map((v) => [[], v]),
  }),
  calculationFamily({
    name: "athena_calculation_completion_timestamp_seconds",
    type: "gauge",
    help: "When the calculation finished, in Unix seconds; absent while it runs.",
    doc: "completion time, Unix seconds; absent while unfinished",
    labelNames: [],
    generate: ({ calculation: c }) => one(c.completedAt).map((v) => [[], v]),
  }),
  calculationFamily({
    name: "athena_calculation_progress_ratio",
    type: "gauge",
    help: "Progress of a calculation from 0 to 1, when Athena's Progress text holds a percentage or a fraction.",
    doc: "0 to 1, when Athena's free-form `Progress` holds a percentage or a fraction; the text itself never becomes a label, so it creates no series as it changes",
    labelNames: [],
    generate: ({ calculation: c }) => one(parseProgress(c.progress)).map((v) => [[], v]),
  }),
  calculationFamily({
    name: "athena_calculation_last_refresh_timestamp_seconds",
    type: "gauge",
    help: "When an unfinished calculation's data was last fetched from Athena, in Unix seconds; absent once it is settled and never fetched again.",
    doc: "when the data of an unfinished calculation was last fetched from Athena, Unix seconds; `time() -` it is the data's age. A settled calculation is never fetched again, so it has none",
    labelNames: [],
    generate: ({ time }) => (time === "settled" ? [] : [[[], roundMs(time.refreshedAt)]]),
  }),
  // Labelled by the ID alone: a calculation Athena has not answered for has no session or workgroup yet.
  defineFamily({
    name: "athena_calculation_up",
    type: "gauge",
    help: "1 when the last refresh of the calculation from Athena succeeded, 0 when it failed.",
    doc: "1 when the last refresh succeeded, 0 when it failed",
    labelNames: ["calculation_execution_id"],
    generate: ({ id, error }) => [[[id], error === undefined ? 1 : 0]],
  }),
  defineFamily({
    name: "athena_calculation_refresh_error_info",
    type: "gauge",
    help: "Why the last refresh of the calculation failed, as an error code; present only while athena_calculation_up is 0.",
    doc: "always 1, present while `up` is 0; `error` is a bounded code: ResourceNotFoundException, InvalidRequestException, InternalServerException, ThrottlingException, AccessDeniedException, ExpiredCredentials, MissingCredentials, Timeout, NetworkError, InvalidResponse, Other, and Pending while Athena has not answered since the calculation began to be watched",
    labelNames: ["calculation_execution_id", "error"],
    generate: ({ id, error }) => (error === undefined ? [] : [[[id, error], 1]]),
  }),
];

/**
 * Samples describing one calculation, one string per family of
 * CALCULATION_FAMILIES ("" for none). Pure: same data, same text. Only an
 * unfinished calculation's duration depends on the clock; a settled one has
 * no refresh time, since it is never fetched again.
 */
export function renderCalculation(subject: CalculationSubject): string[] {
  return CALCULATION_FAMILIES.map((family) => family.render(subject));
}

/** A settled calculation's text: never fetched again, so never failing (up 1). */
export function renderSettled(id: string, calculation: Calculation, workgroup: string): string[] {
  return renderCalculation({ id, error: undefined, known: { calculation, workgroup, time: "settled" } });
}

// Floating-point subtraction of epoch seconds leaves noise like 12.300000190734863.
function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/**
 * Athena's Progress is free text. A percentage ("45%") or a fraction
 * ("3/10", "3 of 10") becomes a ratio; anything else exports nothing, so
 * changing text never creates a new series.
 */
export function parseProgress(text: string): number | undefined {
  const percent = /(\d+(?:\.\d+)?)\s*%/.exec(text);
  if (percent?.[1] !== undefined) return clampRatio(Number(percent[1]) / 100);
  const fraction = /(\d+)\s*(?:\/|of)\s*(\d+)/.exec(text);
  if (fraction?.[1] !== undefined && fraction[2] !== undefined && Number(fraction[2]) > 0) {
    return clampRatio(Number(fraction[1]) / Number(fraction[2]));
  }
  return undefined;
}

/** Huge digit strings make Infinity / Infinity: no ratio rather than NaN. */
function clampRatio(x: number): number | undefined {
  return Number.isNaN(x) ? undefined : Math.min(1, Math.max(0, x));
}
