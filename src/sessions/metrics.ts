import type { RefreshErrorCode } from "../athena/errors.js";
import { defineFamily, type FamilyGenerator, type SampleOf } from "../exposition/family-generator.js";
import { familyHeader, NOTHING_HIDDEN, sample, truncateLabelValue, type FamilySpec } from "../exposition/text-format.js";
import { isSessionEnded, SESSION_STATES, type Session, type WorkGroupSummary } from "./session.js";

/** What the exporter holds of one session when it renders it. */
export interface SessionSubject {
  readonly id: string;
  /** Why the last refresh failed; undefined while it succeeds. */
  readonly error: RefreshErrorCode | undefined;
  /** The last good answer, with the time it was fetched (Unix seconds); undefined until Athena first answered. */
  readonly known: { readonly session: Session; readonly refreshedAt: number } | undefined;
}

const SESSION_LABELS = ["session_id", "workgroup"] as const;

/** A family of a known session, labelled by its ID and workgroup (then `extra`). */
function sessionFamily<const E extends readonly string[]>(
  spec: { name: string; help: string; doc: string; extraLabels: E },
  value: (session: Session, refreshedAt: number) => readonly SampleOf<E>[],
): FamilyGenerator<SessionSubject> {
  const { extraLabels, ...rest } = spec;
  return defineFamily({
    ...rest,
    type: "gauge",
    labelNames: [...SESSION_LABELS, ...extraLabels] as const,
    generate: ({ known }) => {
      if (known === undefined) return [];
      const { session } = known;
      // As in the calculation families: the lengths agree by construction.
      return value(session, known.refreshedAt).map(
        ([extra, v]) => [[session.id, session.workgroup, ...extra], v] as unknown as SampleOf<readonly [...typeof SESSION_LABELS, ...E]>,
      );
    },
  });
}

const one = (x: number | undefined): readonly SampleOf<readonly []>[] => (x === undefined ? [] : [[[], x]]);

/** Per-session families, in the order they are exposed. */
export const SESSION_FAMILIES: readonly FamilyGenerator<SessionSubject>[] = [
  sessionFamily(
    {
      name: "athena_session_state",
      help: "Current state of the session: 1 for the state it is in, 0 for the other seven.",
      doc: "1 for the current state, 0 for the other seven (CREATING, CREATED, IDLE, BUSY, TERMINATING, TERMINATED, DEGRADED, FAILED)",
      extraLabels: ["state"],
    },
    (s) => SESSION_STATES.map((state) => [[state], state === s.state ? 1 : 0]),
  ),
  sessionFamily(
    {
      name: "athena_session_info",
      help: "The session's engine and description as labels; value is always 1.",
      doc: "always 1; the engine (PySpark engine version 3, Apache Spark version 3.5) and the description cut to 200 characters",
      extraLabels: ["engine_version", "description"],
    },
    (s) => [[[truncateLabelValue(s.engineVersion), truncateLabelValue(s.description)], 1]],
  ),
  sessionFamily(
    {
      name: "athena_session_state_reason_info",
      help: "Athena's StateChangeReason for the session's current state, when it gives one; value is always 1.",
      doc: "always 1, present when Athena gives a StateChangeReason (why it FAILED or DEGRADED, say); cut to 200 characters",
      extraLabels: ["state", "reason"],
    },
    (s) => (s.stateChangeReason === "" ? [] : [[[s.state, truncateLabelValue(s.stateChangeReason)], 1]]),
  ),
  sessionFamily(
    {
      name: "athena_session_dpu_execution_seconds",
      help: "DPU time the session has used so far (DpuExecutionInMillis / 1000), in DPU-seconds: what Athena bills, busy or idle.",
      doc: "DPU-seconds used so far (`DpuExecutionInMillis` / 1000), busy or idle: what Athena bills; `rate()` of it is the DPUs in use",
      extraLabels: [],
    },
    (s) => one(s.dpuExecutionSeconds),
  ),
  sessionFamily(
    {
      name: "athena_session_start_timestamp_seconds",
      help: "When the session started, in Unix seconds.",
      doc: "start time, Unix seconds",
      extraLabels: [],
    },
    (s) => one(s.startedAt),
  ),
  sessionFamily(
    {
      name: "athena_session_end_timestamp_seconds",
      help: "When the session ended, in Unix seconds; absent while it is active.",
      doc: "end time, Unix seconds; absent while active",
      extraLabels: [],
    },
    (s) => one(s.endedAt),
  ),
  sessionFamily(
    {
      name: "athena_session_idle_since_timestamp_seconds",
      help: "Since when the session has been IDLE, in Unix seconds; present only while it is IDLE.",
      doc: "since when the session has been IDLE, Unix seconds; only while IDLE",
      extraLabels: [],
    },
    (s) => (s.state === "IDLE" ? one(s.idleSince) : []),
  ),
  sessionFamily(
    {
      name: "athena_session_last_modified_timestamp_seconds",
      help: "When the session last changed, in Unix seconds.",
      doc: "when the session last changed, Unix seconds",
      extraLabels: [],
    },
    (s) => one(s.lastModifiedAt),
  ),
  sessionFamily(
    {
      name: "athena_session_coordinator_dpu_size",
      help: "DPUs of the session's coordinator.",
      doc: "DPUs of the coordinator (`EngineConfiguration.CoordinatorDpuSize`)",
      extraLabels: [],
    },
    (s) => one(s.coordinatorDpuSize),
  ),
  sessionFamily(
    {
      name: "athena_session_default_executor_dpu_size",
      help: "DPUs of each of the session's executors by default.",
      doc: "DPUs of each executor by default (`EngineConfiguration.DefaultExecutorDpuSize`)",
      extraLabels: [],
    },
    (s) => one(s.defaultExecutorDpuSize),
  ),
  sessionFamily(
    {
      name: "athena_session_max_concurrent_dpus",
      help: "Most DPUs the session may use at once.",
      doc: "most DPUs the session may use at once (`EngineConfiguration.MaxConcurrentDpus`)",
      extraLabels: [],
    },
    (s) => one(s.maxConcurrentDpus),
  ),
  sessionFamily(
    {
      name: "athena_session_idle_timeout_seconds",
      help: "How long the session may stay idle before Athena ends it.",
      doc: "how long the session may stay idle before Athena ends it (`SessionConfiguration.SessionIdleTimeoutInMinutes` × 60, else `IdleTimeoutSeconds`)",
      extraLabels: [],
    },
    (s) => one(s.idleTimeoutSeconds),
  ),
  sessionFamily(
    {
      name: "athena_session_last_refresh_timestamp_seconds",
      help: "When an active session's data was last fetched from Athena, in Unix seconds; absent once it ended.",
      doc: "when an active session's data was last fetched, Unix seconds; absent once it ended",
      extraLabels: [],
    },
    (s, refreshedAt) => (isSessionEnded(s.state) ? [] : [[[], Math.round(refreshedAt * 1000) / 1000]]),
  ),
  defineFamily({
    name: "athena_session_up",
    type: "gauge",
    help: "1 when the last refresh of the session from Athena succeeded, 0 when it failed.",
    doc: "1 when the last refresh succeeded, 0 when it failed",
    labelNames: ["session_id"],
    generate: ({ id, error }) => [[[id], error === undefined ? 1 : 0]],
  }),
  defineFamily({
    name: "athena_session_refresh_error_info",
    type: "gauge",
    help: "Why the last refresh of the session failed, as an error code; present only while athena_session_up is 0.",
    doc: "always 1, present while `athena_session_up` is 0; `error` is one of the codes of `athena_calculation_refresh_error_info`",
    labelNames: ["session_id", "error"],
    generate: ({ id, error }) => (error === undefined ? [] : [[[id, error], 1]]),
  }),
];

/** Per-workgroup families found by discovery. */
export const WORKGROUP_FAMILIES: readonly FamilyGenerator<WorkGroupSummary>[] = [
  defineFamily({
    name: "athena_workgroup_info",
    type: "gauge",
    help: "Each workgroup discovery reads, with its engine and state; value is always 1.",
    doc: "always 1, per discovered workgroup: its engine (PySpark engine version 3 has calculations; Apache Spark version 3.5 only sessions) and state",
    labelNames: ["workgroup", "engine_version", "state"],
    generate: (w) => [[[w.name, truncateLabelValue(w.engine), w.state], 1]],
  }),
];

/**
 * A workgroup's tags as labels, for the keys of discovery.workgroupTags (the
 * kube-state-metrics labels-allowlist pattern), so that cost per team is one
 * join. Its label names come from the configuration, so it is rendered here
 * rather than by a generator; README lists its fixed label.
 */
export const WORKGROUP_TAGS_FAMILY: FamilySpec = {
  name: "athena_workgroup_tags",
  type: "gauge",
  help: "The tags of each discovered workgroup named in discovery.workgroupTags, as tag_<key> labels; value is always 1.",
  doc: "always 1, per discovered workgroup, with a `tag_<key>` label per key of `discovery.workgroupTags` (other characters than letters, digits and _ made _; empty when the workgroup lacks the tag); only when keys are configured",
  labelNames: ["workgroup"],
};

/** A tag key as a label name: `tag_` and the key with every character outside [a-zA-Z0-9_] made `_` (as kube-state-metrics does). */
export function tagLabel(key: string): string {
  return `tag_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export function renderWorkgroupTags(
  workgroups: readonly WorkGroupSummary[],
  keys: readonly string[],
  hidden: ReadonlySet<string> = NOTHING_HIDDEN,
): string {
  if (keys.length === 0 || hidden.has(WORKGROUP_TAGS_FAMILY.name)) return "";
  const lines = workgroups
    .filter((w) => w.tags !== undefined)
    .map((w) =>
      sample(
        WORKGROUP_TAGS_FAMILY.name,
        [["workgroup", w.name], ...keys.map((key) => [tagLabel(key), truncateLabelValue(w.tags?.get(key) ?? "")] as const)],
        1,
      ),
    );
  return lines.length === 0 ? "" : familyHeader(WORKGROUP_TAGS_FAMILY) + lines.join("");
}
