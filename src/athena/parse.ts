import type {
  CalculationSummary as SdkCalculationSummary,
  GetCalculationExecutionCommandOutput,
  GetSessionCommandOutput,
  GetWorkGroupCommandOutput,
  SessionSummary as SdkSessionSummary,
  WorkGroupSummary as SdkWorkGroupSummary,
} from "@aws-sdk/client-athena";
import { isCalculationState, type Calculation, type CalculationSummary } from "./calculation.js";
import { err, ok, type Result } from "../result.js";
import { isSessionState, type Session, type SessionSummary, type WorkGroupSummary } from "./session.js";
import { isExecutorState, isExecutorType, type Executor } from "./executor.js";

type CalculationAnswer = Pick<
  GetCalculationExecutionCommandOutput,
  "CalculationExecutionId" | "SessionId" | "Description" | "WorkingDirectory" | "Status" | "Statistics" | "Result"
>;

/**
 * The SDK types every field, but its deserializer does not check the JSON
 * it reads: a number where a string belongs arrives as a number. So every
 * field is checked here, at the one place answers become domain values, and
 * an answer the exporter cannot use is refused with the reason.
 */

/** Athena's IDs are UUIDs; its API allows session IDs of up to 256 characters. */
const MAX_ID_LENGTH = 256;
/** Athena names workgroups with at most 128 characters (of [a-zA-Z0-9._-], but any text is escaped safely). */
const MAX_WORKGROUP_LENGTH = 128;
const isWorkgroupName = (name: unknown): name is string =>
  typeof name === "string" && name.length > 0 && name.length <= MAX_WORKGROUP_LENGTH;
/** Free text beyond this is not text Athena sends; it is cut to label size anyway. */
const MAX_TEXT_LENGTH = 64 * 1024;
/** Progress text is parsed for a number; only its start is read, so a hostile text cannot make the regex slow. */
const MAX_PROGRESS_LENGTH = 200;
/** A million DPU-hours: no calculation uses more; a larger figure would poison the DPU counters. */
export const MAX_DPU_MILLIS = 1e6 * 3600 * 1000;

/** Whether a DPU figure may go into a counter: finite, not negative, at most MAX_DPU_MILLIS. */
export function isSaneDpuSeconds(seconds: number): boolean {
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_DPU_MILLIS / 1000;
}
/**
 * The API model's S3Uri is `^(https|s3|S3)://([^/]+)/?(.*)$`: s3:// or S3:// with a bucket name (at most 63) or
 * https:// with a host (at most 253 with a port), then "/" and a key (at most 1024 bytes). No longer URI is one.
 */
const MAX_S3_URI_LENGTH = "https://".length + 253 + 6 + 1 + 1024;
const S3_URI_RE =
  /^(?:[sS]3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]|https:\/\/[A-Za-z0-9][A-Za-z0-9.-]{0,252}(?::\d{1,5})?)(?:\/\P{Cc}{0,1024})?$/u;

/**
 * Where a calculation's stdout, stderr or result lies, as its result links
 * export it. A value that is not an S3 URI as the model allows it (s3://,
 * S3:// or https://, of bounded length) becomes "" (no link) rather than
 * refusing the whole answer: the state and times matter more than a link,
 * and a label must never carry arbitrary text as a URI.
 */
function s3Uri(value: unknown, field: string): string {
  const uri = text(value, field);
  return uri.length <= MAX_S3_URI_LENGTH && S3_URI_RE.test(uri) ? uri : "";
}
/**
 * An IAM role ARN as the API model's ExecutionRole allows it (20 to 2048
 * characters, `arn:aws…:iam::<account>:role/<path and name>`).
 */
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-/]+$/;

/** The session's execution role, or "" when Athena gives none or text that is no role ARN: a label never carries arbitrary text as a role. */
function roleArn(value: unknown, field: string): string {
  const arn = text(value, field);
  return arn.length >= 20 && arn.length <= 2048 && ROLE_ARN_RE.test(arn) ? arn : "";
}

/** Timestamps outside 2000–2100 are not times Athena gives. */
const MIN_EPOCH_SECONDS = 946_684_800;
const MAX_EPOCH_SECONDS = 4_102_444_800;

class Refused extends Error {}

function text(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new Refused(`${field} is a ${typeof value}, not a string`);
  if (value.length > MAX_TEXT_LENGTH) throw new Refused(`${field} is ${value.length} characters long`);
  return value;
}

function id(value: unknown, field: string): string {
  if (value === undefined || value === null || value === "") throw new Refused(`answer has no ${field}`);
  if (typeof value !== "string") throw new Refused(`${field} is a ${typeof value}, not a string`);
  if (value.length > MAX_ID_LENGTH) throw new Refused(`${field} is ${value.length} characters long, more than ${MAX_ID_LENGTH}`);
  return value;
}

function timestamp(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = value instanceof Date ? value.getTime() / 1000 : NaN;
  if (!Number.isFinite(seconds) || seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS) {
    throw new Refused(`${field} is not a time between 2000 and 2100`);
  }
  return seconds;
}

function dpuMillis(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_DPU_MILLIS) {
    throw new Refused(`Statistics.DpuExecutionInMillis ${describe(value)} is not a number of milliseconds from 0 to ${MAX_DPU_MILLIS}`);
  }
  return value;
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Refused(`${field} is not an object`);
  return value as Record<string, unknown>; // any object; each field is checked on its own
}

function describe(value: unknown): string {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return shown.length > 40 ? `${shown.slice(0, 39)}…` : shown;
}

function refusing<T>(parse: () => T): Result<T, string> {
  try {
    return ok(parse());
  } catch (e) {
    if (e instanceof Refused) return err(e.message);
    throw e;
  }
}

/**
 * The one place SDK shapes become a Calculation. An answer without the
 * fields a metric needs, with a field of the wrong type or an absurd value,
 * or about another calculation than the one asked for, is refused.
 */
export function toCalculation(requestedId: string, answer: CalculationAnswer): Result<Calculation, string> {
  return refusing(() => {
    const a = record(answer, "answer");
    const status = record(a.Status, "Status");
    const statistics = record(a.Statistics, "Statistics");
    const result = record(a.Result, "Result");
    const state: unknown = status.State;
    if (state === undefined || state === null) throw new Refused("answer has no Status.State");
    if (typeof state !== "string" || !isCalculationState(state)) throw new Refused(`answer has an unknown Status.State ${describe(state)}`);
    if (a.CalculationExecutionId !== undefined) {
      const answered = id(a.CalculationExecutionId, "CalculationExecutionId");
      if (answered.toLowerCase() !== requestedId.toLowerCase()) {
        throw new Refused(`answer is about calculation ${describe(answered)}, not ${requestedId}`);
      }
    }
    const millis = dpuMillis(statistics.DpuExecutionInMillis);
    return {
      // The ID asked for: the series of one calculation can only ever carry its own ID.
      id: requestedId.toLowerCase(),
      sessionId: id(a.SessionId, "SessionId"),
      description: text(a.Description, "Description"),
      workingDirectory: text(a.WorkingDirectory, "WorkingDirectory"),
      state,
      stateChangeReason: text(status.StateChangeReason, "Status.StateChangeReason"),
      submittedAt: timestamp(status.SubmissionDateTime, "Status.SubmissionDateTime"),
      completedAt: timestamp(status.CompletionDateTime, "Status.CompletionDateTime"),
      dpuExecutionSeconds: millis === undefined ? undefined : millis / 1000,
      progress: text(statistics.Progress, "Statistics.Progress").slice(0, MAX_PROGRESS_LENGTH),
      result: {
        stdOutS3Uri: s3Uri(result.StdOutS3Uri, "Result.StdOutS3Uri"),
        stdErrorS3Uri: s3Uri(result.StdErrorS3Uri, "Result.StdErrorS3Uri"),
        resultS3Uri: s3Uri(result.ResultS3Uri, "Result.ResultS3Uri"),
        resultType: text(result.ResultType, "Result.ResultType"),
      },
    };
  });
}

/** A size or limit Athena gives as a number: absent, or a finite number from 0 to `max`. */
function amount(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    throw new Refused(`${field} ${describe(value)} is not a number from 0 to ${max}`);
  }
  return value;
}

/** GetSession's answer as a Session, refused on the same grounds as a calculation's. */
export function toSession(requestedId: string, answer: Pick<GetSessionCommandOutput, "SessionId">): Result<Session, string> {
  return refusing(() => {
    const a = record(answer, "answer");
    const status = record(a.Status, "Status");
    const statistics = record(a.Statistics, "Statistics");
    const engine = record(a.EngineConfiguration, "EngineConfiguration");
    const configuration = record(a.SessionConfiguration, "SessionConfiguration");
    const state: unknown = status.State;
    if (state === undefined || state === null) throw new Refused("answer has no Status.State");
    if (typeof state !== "string" || !isSessionState(state)) throw new Refused(`answer has an unknown Status.State ${describe(state)}`);
    if (a.SessionId !== undefined) {
      const answered = id(a.SessionId, "SessionId");
      if (answered !== requestedId) throw new Refused(`answer is about session ${describe(answered)}, not ${requestedId}`);
    }
    const workgroup: unknown = a.WorkGroup;
    if (!isWorkgroupName(workgroup)) throw new Refused(`answer has no valid WorkGroup ${describe(workgroup)}`);
    const millis = dpuMillis(statistics.DpuExecutionInMillis);
    return {
      id: requestedId,
      workgroup,
      description: text(a.Description, "Description"),
      engineVersion: text(a.EngineVersion, "EngineVersion"),
      state,
      stateChangeReason: text(status.StateChangeReason, "Status.StateChangeReason"),
      startedAt: timestamp(status.StartDateTime, "Status.StartDateTime"),
      lastModifiedAt: timestamp(status.LastModifiedDateTime, "Status.LastModifiedDateTime"),
      endedAt: timestamp(status.EndDateTime, "Status.EndDateTime"),
      idleSince: timestamp(status.IdleSinceDateTime, "Status.IdleSinceDateTime"),
      dpuExecutionSeconds: millis === undefined ? undefined : millis / 1000,
      coordinatorDpuSize: amount(engine.CoordinatorDpuSize, "EngineConfiguration.CoordinatorDpuSize", 10_000),
      defaultExecutorDpuSize: amount(engine.DefaultExecutorDpuSize, "EngineConfiguration.DefaultExecutorDpuSize", 10_000),
      maxConcurrentDpus: amount(engine.MaxConcurrentDpus, "EngineConfiguration.MaxConcurrentDpus", 100_000),
      idleTimeoutSeconds: idleTimeout(configuration),
      executionRole: roleArn(configuration.ExecutionRole, "SessionConfiguration.ExecutionRole"),
      notebookVersion: text(a.NotebookVersion, "NotebookVersion"),
    };
  });
}

/**
 * The session's idle timeout in seconds. SessionConfiguration carries two
 * fields: SessionIdleTimeoutInMinutes, the one StartSession sets (and the
 * console's setting), and the older IdleTimeoutSeconds. When both are given
 * the minutes win, as the setting the session was started with.
 */
function idleTimeout(configuration: Record<string, unknown>): number | undefined {
  const seconds = amount(configuration.IdleTimeoutSeconds, "SessionConfiguration.IdleTimeoutSeconds", MAX_IDLE_TIMEOUT_SECONDS);
  const minutes = amount(
    configuration.SessionIdleTimeoutInMinutes,
    "SessionConfiguration.SessionIdleTimeoutInMinutes",
    MAX_IDLE_TIMEOUT_SECONDS / 60,
  );
  return minutes === undefined ? seconds : minutes * 60;
}
const MAX_IDLE_TIMEOUT_SECONDS = 10 * 365 * 86_400;

/** No executor holds more DPUs than a session may hold at once (MaxConcurrentDpus' own bound). */
const MAX_EXECUTOR_DPUS = 100_000;

/**
 * An executor's time. The model types StartDateTime and TerminationDateTime
 * as Long without a unit: a figure above 10^11 is taken as milliseconds (10^11
 * seconds lies past the year 5000), one below as seconds.
 */
function epoch(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Refused(`${field} ${describe(value)} is not a number`);
  const seconds = value > 1e11 ? value / 1000 : value;
  if (seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS)
    throw new Refused(`${field} ${describe(value)} is not a time between 2000 and 2100`);
  return seconds;
}

/**
 * One ListExecutors summary as an Executor. Unlike the other listings, a bad
 * summary refuses the whole listing (client.ts): an executor left out would
 * make the DPUs held and the failures counted quietly wrong.
 */
export function toExecutor(summary: unknown): Result<Executor, string> {
  return refusing(() => {
    const e = record(summary, "ExecutorsSummary item");
    const executorId = id(e.ExecutorId, "ExecutorId");
    const type: unknown = e.ExecutorType;
    if (typeof type !== "string" || !isExecutorType(type))
      throw new Refused(`executor ${describe(executorId)} has an unknown ExecutorType ${describe(type)}`);
    const state: unknown = e.ExecutorState;
    if (typeof state !== "string" || !isExecutorState(state))
      throw new Refused(`executor ${describe(executorId)} has an unknown ExecutorState ${describe(state)}`);
    const size = amount(e.ExecutorSize, `ExecutorSize of executor ${describe(executorId)}`, MAX_EXECUTOR_DPUS);
    if (size === undefined) throw new Refused(`executor ${describe(executorId)} has no ExecutorSize`);
    const startedAt = epoch(e.StartDateTime, `StartDateTime of executor ${describe(executorId)}`);
    if (startedAt === undefined) throw new Refused(`executor ${describe(executorId)} has no StartDateTime`);
    return {
      id: executorId,
      type,
      state,
      size,
      startedAt,
      endedAt: epoch(e.TerminationDateTime, `TerminationDateTime of executor ${describe(executorId)}`),
    };
  });
}

const safeTimestamp = (value: unknown): number | undefined => {
  const parsed = refusing(() => timestamp(value, "time"));
  return parsed.ok ? parsed.value : undefined;
};

/** A summary's Status: its fields, or none when it is missing or not an object (a summary is read leniently). */
function statusOf(summary: unknown): Record<string, unknown> {
  const status = (summary as Record<string, unknown>).Status;
  return typeof status === "object" && status !== null ? (status as Record<string, unknown>) : {}; // any object; each field is checked on its own
}

export function toCalculationSummary(summary: SdkCalculationSummary, sessionId: string): Result<CalculationSummary, string> {
  return refusing(() => {
    const status = statusOf(summary);
    const calculationId = id((summary as Record<string, unknown>).CalculationExecutionId, "CalculationExecutionId");
    const state: unknown = status.State;
    if (typeof state !== "string" || !isCalculationState(state)) throw new Refused(`summary of ${calculationId} has no known Status.State`);
    return {
      id: calculationId.toLowerCase(),
      sessionId,
      state,
      submittedAt: safeTimestamp(status.SubmissionDateTime),
      completedAt: safeTimestamp(status.CompletionDateTime),
    };
  });
}

export function toSessionSummary(summary: SdkSessionSummary, workgroup: string): Result<SessionSummary, string> {
  return refusing(() => {
    const status = statusOf(summary);
    const sessionId = id((summary as Record<string, unknown>).SessionId, "SessionId");
    return {
      id: sessionId,
      workgroup,
      state: typeof status.State === "string" ? status.State : "",
      startedAt: safeTimestamp(status.StartDateTime),
      endedAt: safeTimestamp(status.EndDateTime),
    };
  });
}

/** GetWorkGroup's answer: the workgroup's name, state and engine. */
export function toWorkGroupDetail(name: string, answer: Pick<GetWorkGroupCommandOutput, "WorkGroup">): Result<WorkGroupSummary, string> {
  return refusing(() => {
    const wg = record((answer as Record<string, unknown> | undefined)?.WorkGroup, "WorkGroup");
    const version = record(record(wg.Configuration, "WorkGroup.Configuration").EngineVersion, "WorkGroup.Configuration.EngineVersion");
    const state = text(wg.State, "WorkGroup.State");
    const engine = text(version.EffectiveEngineVersion ?? version.SelectedEngineVersion, "EngineVersion");
    return { name, enabled: state === "ENABLED", state, engine };
  });
}

/** One tag of ListTagsForResource: key and value, both text. */
export function toTag(tag: unknown): Result<readonly [string, string], string> {
  return refusing(() => {
    const t = record(tag, "Tag");
    const key = text(t.Key, "Tag.Key");
    if (key === "") throw new Refused("tag has no Key");
    return [key, text(t.Value, "Tag.Value")] as const;
  });
}

export function toWorkGroupSummary(summary: SdkWorkGroupSummary): Result<WorkGroupSummary, string> {
  const name: unknown = (summary as Record<string, unknown>).Name;
  if (!isWorkgroupName(name)) return err("summary has no valid Name");
  const engine = summary.EngineVersion?.EffectiveEngineVersion ?? summary.EngineVersion?.SelectedEngineVersion ?? "";
  const state = typeof summary.State === "string" ? summary.State : "";
  return ok({ name, enabled: state === "ENABLED", state, engine: typeof engine === "string" ? engine : "" });
}
