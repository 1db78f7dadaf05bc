import type { RefreshErrorCode } from "../athena/errors.js";
import { defineFamily, type FamilyGenerator, type SampleOf } from "../exposition/family-generator.js";
import { withIdLabels } from "../exposition/id-labels.js";
import { NOTHING_HIDDEN, renderFamilies, truncateLabelValue, type FamilySpec } from "../exposition/text-format.js";
import { tagLabel } from "../exposition/label-name.js";
import { isSessionEnded, SESSION_STATES, type Session, type WorkGroupSummary } from "../athena/session.js";

/** What the exporter holds of one session when it renders it. */
export interface SessionSubject {
  readonly id: string;
  /** Why the last refresh failed; undefined while it succeeds. */
  readonly error: RefreshErrorCode | undefined;
  /** The last good answer, with the time it was fetched (Unix seconds); undefined until Athena first answered. */
  readonly known: { readonly session: Session; readonly refreshedAt: number } | undefined;
}

/** A family of a known session: its samples carry the session's ID and workgroup, then its own labels. */
const sessionFamily = withIdLabels(["session_id", "workgroup"], ({ known }: SessionSubject) =>
  known === undefined ? undefined : { known, ids: [known.session.id, known.session.workgroup] },
);

const one = (x: number | undefined): readonly SampleOf<readonly []>[] => (x === undefined ? [] : [[[], x]]);

/** Per-session families, in the order they are exposed. */
export const SESSION_FAMILIES: readonly FamilyGenerator<SessionSubject>[] = [
  sessionFamily({
    name: "athena_session_state",
    type: "gauge",
    help: "Current state of the session: 1 for the state it is in, 0 for the other seven.",
    doc: "1 for the current state, 0 for the other seven (CREATING, CREATED, IDLE, BUSY, TERMINATING, TERMINATED, DEGRADED, FAILED)",
    labelNames: ["state"],
    generate: ({ session: s }) => SESSION_STATES.map((state) => [[state], state === s.state ? 1 : 0]),
  }),
  sessionFamily({
    name: "athena_session_info",
    type: "gauge",
    help: "The session's engine, description, execution role and notebook version as labels; value is always 1.",
    doc: 'always 1; the engine (PySpark engine version 3, Apache Spark version 3.5), the description, the IAM role its code runs as (`SessionConfiguration.ExecutionRole`, "" when not a role ARN) and the notebook version (`NotebookVersion`), each cut to 200 characters: who spent a session\'s DPUs, one join away',
    labelNames: ["engine_version", "description", "execution_role", "notebook_version"],
    generate: ({ session: s }) => [
      [
        [
          truncateLabelValue(s.engineVersion),
          truncateLabelValue(s.description),
          truncateLabelValue(s.executionRole),
          truncateLabelValue(s.notebookVersion),
        ],
        1,
      ],
    ],
  }),
  sessionFamily({
    name: "athena_session_state_reason_info",
    type: "gauge",
    help: "Athena's StateChangeReason for the session's current state, when it gives one; value is always 1.",
    doc: "always 1, present when Athena gives a StateChangeReason (why it FAILED or DEGRADED, say); cut to 200 characters",
    labelNames: ["state", "reason"],
    generate: ({ session: s }) => (s.stateChangeReason === "" ? [] : [[[s.state, truncateLabelValue(s.stateChangeReason)], 1]]),
  }),
  sessionFamily({
    name: "athena_session_dpu_execution_seconds",
    type: "gauge",
    help: "DPU time the session has used so far (DpuExecutionInMillis / 1000), in DPU-seconds: what Athena bills, busy or idle.",
    doc: "DPU-seconds used so far (`DpuExecutionInMillis` / 1000), busy or idle: what Athena bills; `rate()` of it is the DPUs in use",
    labelNames: [],
    generate: ({ session: s }) => one(s.dpuExecutionSeconds),
  }),
  sessionFamily({
    name: "athena_session_start_timestamp_seconds",
    type: "gauge",
    help: "When the session started, in Unix seconds.",
    doc: "start time, Unix seconds",
    labelNames: [],
    generate: ({ session: s }) => one(s.startedAt),
  }),
  sessionFamily({
    name: "athena_session_end_timestamp_seconds",
    type: "gauge",
    help: "When the session ended, in Unix seconds; absent while it is active.",
    doc: "end time, Unix seconds; absent while active",
    labelNames: [],
    generate: ({ session: s }) => one(s.endedAt),
  }),
  sessionFamily({
    name: "athena_session_idle_since_timestamp_seconds",
    type: "gauge",
    help: "Since when the session has been IDLE, in Unix seconds; present only while it is IDLE.",
    doc: "since when the session has been IDLE, Unix seconds; only while IDLE",
    labelNames: [],
    generate: ({ session: s }) => (s.state === "IDLE" ? one(s.idleSince) : []),
  }),
  sessionFamily({
    name: "athena_session_last_modified_timestamp_seconds",
    type: "gauge",
    help: "When the session last changed, in Unix seconds.",
    doc: "when the session last changed, Unix seconds",
    labelNames: [],
    generate: ({ session: s }) => one(s.lastModifiedAt),
  }),
  sessionFamily({
    name: "athena_session_max_concurrent_dpus",
    type: "gauge",
    help: "Most DPUs the session may use at once.",
    doc: "most DPUs the session may use at once (`EngineConfiguration.MaxConcurrentDpus`)",
    labelNames: [],
    generate: ({ session: s }) => one(s.maxConcurrentDpus),
  }),
  sessionFamily({
    name: "athena_session_idle_timeout_seconds",
    type: "gauge",
    help: "How long the session may stay idle before Athena ends it.",
    doc: "how long the session may stay idle before Athena ends it (`SessionConfiguration.SessionIdleTimeoutInMinutes` × 60, else `IdleTimeoutSeconds`)",
    labelNames: [],
    generate: ({ session: s }) => one(s.idleTimeoutSeconds),
  }),
  sessionFamily({
    name: "athena_session_last_refresh_timestamp_seconds",
    type: "gauge",
    help: "When an active session's data was last fetched from Athena, in Unix seconds; absent once it ended.",
    doc: "when an active session's data was last fetched, Unix seconds; absent once it ended",
    labelNames: [],
    generate: ({ session: s, refreshedAt }) => (isSessionEnded(s.state) ? [] : [[[], Math.round(refreshedAt * 1000) / 1000]]),
  }),
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
 * join. Its label names beyond `workgroup` come from the configuration, so
 * its generator is made for the keys configured (workgroupTagsFamily);
 * README lists its fixed label.
 */
export const WORKGROUP_TAGS_FAMILY = {
  name: "athena_workgroup_tags",
  type: "gauge",
  help: "The tags of each discovered workgroup named in discovery.workgroupTags, as tag_<key> labels; value is always 1.",
  doc: "always 1, per discovered workgroup, with a `tag_<key>` label per key of `discovery.workgroupTags` (other characters than letters, digits and _ made _; empty when the workgroup lacks the tag); only when keys are configured",
  labelNames: ["workgroup"],
} as const satisfies FamilySpec;

/** athena_workgroup_tags with a `tag_<key>` label per key, in the order of `keys`; a workgroup whose tags were not read has no sample. */
function workgroupTagsFamily(keys: readonly string[]): FamilyGenerator<WorkGroupSummary> {
  return defineFamily({
    ...WORKGROUP_TAGS_FAMILY,
    labelNames: [...WORKGROUP_TAGS_FAMILY.labelNames, ...keys.map(tagLabel)],
    generate: (w) => (w.tags === undefined ? [] : [[[w.name, ...keys.map((key) => truncateLabelValue(w.tags?.get(key) ?? ""))], 1]]),
  });
}

export function renderWorkgroupTags(
  workgroups: readonly WorkGroupSummary[],
  keys: readonly string[],
  hidden: ReadonlySet<string> = NOTHING_HIDDEN,
): string {
  if (keys.length === 0) return "";
  const family = workgroupTagsFamily(keys);
  // renderFamilies leaves out a family without lines: its header too, when no workgroup's tags were read.
  const lines = workgroups.map((w) => family.render(w)).filter((line) => line !== "");
  return renderFamilies([family], [lines], hidden);
}
