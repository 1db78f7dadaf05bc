import { CALCULATION_STATES, isFinished, type Calculation } from "./calculation.js";
import type { RefreshErrorCode } from "./athena-errors.js";
import { sample, truncateLabelValue, type FamilySpec, type Labels } from "./exposition.js";

/** The per-calculation families, in the order they are exposed. */
export const CALCULATION_FAMILIES = [
  {
    name: "athena_calculation_state",
    type: "gauge",
    help: "Current state of the calculation execution: 1 for the state it is in, 0 for the other seven.",
  },
  {
    name: "athena_calculation_info",
    type: "gauge",
    help: "Descriptive text of the calculation execution as labels; value is always 1.",
  },
  {
    name: "athena_calculation_state_reason_info",
    type: "gauge",
    help: "Athena's StateChangeReason for the calculation's current state, when it gives one; value is always 1.",
  },
  {
    name: "athena_calculation_dpu_execution_seconds",
    type: "gauge",
    help: "DPU time the calculation has used (DpuExecutionInMillis / 1000), in DPU-seconds.",
  },
  {
    name: "athena_calculation_duration_seconds",
    type: "gauge",
    help: "Completion minus submission time; for an unfinished calculation, now minus submission time.",
  },
  {
    name: "athena_calculation_submission_timestamp_seconds",
    type: "gauge",
    help: "When the calculation was submitted, in Unix seconds.",
  },
  {
    name: "athena_calculation_completion_timestamp_seconds",
    type: "gauge",
    help: "When the calculation finished, in Unix seconds; absent while it runs.",
  },
  {
    name: "athena_calculation_progress_ratio",
    type: "gauge",
    help: "Progress of a calculation from 0 to 1, when Athena's Progress text holds a percentage or a fraction.",
  },
  {
    name: "athena_calculation_last_refresh_timestamp_seconds",
    type: "gauge",
    help: "When an unfinished calculation's data was last fetched from Athena, in Unix seconds; absent once it is settled and never fetched again.",
  },
  {
    name: "athena_calculation_up",
    type: "gauge",
    help: "1 when the last refresh of the calculation from Athena succeeded, 0 when it failed.",
  },
  {
    name: "athena_calculation_refresh_error_info",
    type: "gauge",
    help: "Why the last refresh of the calculation failed, as an error code; present only while athena_calculation_up is 0.",
  },
] as const satisfies readonly FamilySpec[];

export const FAMILY = {
  state: 0,
  info: 1,
  reason: 2,
  dpu: 3,
  duration: 4,
  submission: 5,
  completion: 6,
  progress: 7,
  lastRefresh: 8,
  up: 9,
  refreshError: 10,
} as const;

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

/**
 * When a calculation is rendered: "settled" for one that will never change
 * (its text is kept as it is), else the clock and the time of its fetch.
 */
export type RenderTime = "settled" | { readonly nowSeconds: number; readonly refreshedAt: number };

/**
 * Samples describing one calculation, one string per family. Pure: same
 * data, same text. Only an unfinished calculation's duration depends on the
 * clock; a settled one has no refresh time, since it is never fetched again.
 */
export function renderCalculation(calc: Calculation, workgroup: string, time: RenderTime): string[] {
  const id: Labels = [
    ["calculation_execution_id", calc.id],
    ["session_id", calc.sessionId],
    ["workgroup", workgroup],
  ];
  const lines = CALCULATION_FAMILIES.map(() => "");
  const name = (i: number): string => CALCULATION_FAMILIES[i]?.name ?? "";

  lines[FAMILY.state] = CALCULATION_STATES.map((state) =>
    sample(name(FAMILY.state), [...id, ["state", state]], state === calc.state ? 1 : 0),
  ).join("");

  lines[FAMILY.info] = sample(
    name(FAMILY.info),
    [
      ...id,
      ["description", truncateLabelValue(calc.description)],
      ["working_directory", truncateLabelValue(calc.workingDirectory)],
      ["result_type", truncateLabelValue(calc.result.resultType)],
    ],
    1,
  );

  if (calc.stateChangeReason !== "") {
    lines[FAMILY.reason] = sample(
      name(FAMILY.reason),
      [...id, ["state", calc.state], ["reason", truncateLabelValue(calc.stateChangeReason)]],
      1,
    );
  }

  if (calc.dpuExecutionSeconds !== undefined) {
    lines[FAMILY.dpu] = sample(name(FAMILY.dpu), id, calc.dpuExecutionSeconds);
  }

  if (calc.submittedAt !== undefined) {
    lines[FAMILY.submission] = sample(name(FAMILY.submission), id, calc.submittedAt);
    const end = isFinished(calc.state) ? calc.completedAt : time === "settled" ? undefined : time.nowSeconds;
    if (end !== undefined) lines[FAMILY.duration] = sample(name(FAMILY.duration), id, Math.max(0, roundMs(end - calc.submittedAt)));
  }

  if (calc.completedAt !== undefined) {
    lines[FAMILY.completion] = sample(name(FAMILY.completion), id, calc.completedAt);
  }

  const progress = parseProgress(calc.progress);
  if (progress !== undefined) lines[FAMILY.progress] = sample(name(FAMILY.progress), id, progress);

  if (time !== "settled") lines[FAMILY.lastRefresh] = sample(name(FAMILY.lastRefresh), id, roundMs(time.refreshedAt));

  return lines;
}

// Floating-point subtraction of epoch seconds leaves noise like 12.300000190734863.
function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** A settled calculation's lines with its up sample (always 1: it is never fetched again, so never fails). */
export function settledLines(calculationId: string, lines: readonly string[]): string[] {
  const withUp = [...lines];
  withUp[FAMILY.up] = renderUp(calculationId, undefined).up;
  return withUp;
}

/** The up sample and, while it is 0, the reason. */
export function renderUp(calculationId: string, error: RefreshErrorCode | undefined): { up: string; refreshError: string } {
  const id: Labels = [["calculation_execution_id", calculationId]];
  return {
    up: sample(CALCULATION_FAMILIES[FAMILY.up].name, id, error === undefined ? 1 : 0),
    refreshError:
      error === undefined ? "" : sample(CALCULATION_FAMILIES[FAMILY.refreshError].name, [...id, ["error", error]], 1),
  };
}
