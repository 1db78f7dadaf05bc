import type {
  CalculationSummary as SdkCalculationSummary,
  GetCalculationExecutionCommandOutput,
  GetSessionCommandOutput,
  SessionSummary as SdkSessionSummary,
  WorkGroupSummary as SdkWorkGroupSummary,
} from "@aws-sdk/client-athena";
import {
  isCalculationState,
  type Calculation,
  type CalculationSummary,
  type SessionSummary,
  type WorkGroupSummary,
} from "./calculation.js";
import { err, ok, type Result } from "./result.js";

type CalculationAnswer = Pick<
  GetCalculationExecutionCommandOutput,
  "CalculationExecutionId" | "SessionId" | "Description" | "WorkingDirectory" | "Status" | "Statistics" | "Result"
>;

const seconds = (date: Date | undefined): number | undefined => {
  if (date === undefined) return undefined;
  const ms = date.getTime();
  return Number.isFinite(ms) ? ms / 1000 : undefined;
};

/**
 * The one place SDK shapes (every field optional) become a Calculation.
 * An answer without the fields a metric needs is refused with the reason.
 */
export function toCalculation(requestedId: string, answer: CalculationAnswer): Result<Calculation, string> {
  const state = answer.Status?.State;
  if (state === undefined) return err("answer has no Status.State");
  if (!isCalculationState(state)) return err(`answer has an unknown Status.State "${String(state)}"`);
  if (answer.SessionId === undefined || answer.SessionId === "") return err("answer has no SessionId");
  const dpuMillis = answer.Statistics?.DpuExecutionInMillis;
  if (dpuMillis !== undefined && (!Number.isFinite(dpuMillis) || dpuMillis < 0)) {
    return err(`answer has an invalid Statistics.DpuExecutionInMillis ${String(dpuMillis)}`);
  }
  return ok({
    id: (answer.CalculationExecutionId ?? requestedId).toLowerCase(),
    sessionId: answer.SessionId,
    description: answer.Description ?? "",
    workingDirectory: answer.WorkingDirectory ?? "",
    state,
    stateChangeReason: answer.Status?.StateChangeReason ?? "",
    submittedAt: seconds(answer.Status?.SubmissionDateTime),
    completedAt: seconds(answer.Status?.CompletionDateTime),
    dpuExecutionSeconds: dpuMillis === undefined ? undefined : dpuMillis / 1000,
    progress: answer.Statistics?.Progress ?? "",
    result: {
      stdOutS3Uri: answer.Result?.StdOutS3Uri ?? "",
      stdErrorS3Uri: answer.Result?.StdErrorS3Uri ?? "",
      resultS3Uri: answer.Result?.ResultS3Uri ?? "",
      resultType: answer.Result?.ResultType ?? "",
    },
  });
}

export function toWorkgroup(answer: Pick<GetSessionCommandOutput, "WorkGroup">): Result<string, string> {
  const wg = answer.WorkGroup;
  return wg === undefined || wg === "" ? err("answer has no WorkGroup") : ok(wg);
}

export function toCalculationSummary(summary: SdkCalculationSummary, sessionId: string): Result<CalculationSummary, string> {
  const id = summary.CalculationExecutionId;
  const state = summary.Status?.State;
  if (id === undefined || id === "") return err("summary has no CalculationExecutionId");
  if (state === undefined || !isCalculationState(state)) return err(`summary of ${id} has no known Status.State`);
  return ok({ id: id.toLowerCase(), sessionId, state, completedAt: seconds(summary.Status?.CompletionDateTime) });
}

export function toSessionSummary(summary: SdkSessionSummary, workgroup: string): Result<SessionSummary, string> {
  const id = summary.SessionId;
  if (id === undefined || id === "") return err("summary has no SessionId");
  return ok({ id, workgroup, state: summary.Status?.State ?? "", endedAt: seconds(summary.Status?.EndDateTime) });
}

export function toWorkGroupSummary(summary: SdkWorkGroupSummary): Result<WorkGroupSummary, string> {
  if (summary.Name === undefined || summary.Name === "") return err("summary has no Name");
  return ok({
    name: summary.Name,
    enabled: summary.State === "ENABLED",
    engine: summary.EngineVersion?.EffectiveEngineVersion ?? summary.EngineVersion?.SelectedEngineVersion ?? "",
  });
}
