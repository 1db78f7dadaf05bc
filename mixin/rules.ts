/**
 * The alert and recording rules, built from mixin/config.ts. Every series is
 * selected with the config's job selector, every alert keeps `job` and
 * `instance` (to route per account or region), and labels hold bounded
 * identifiers only: free text goes to annotations.
 */
import { type MixinConfig, runbookUrl, type UnfinishedCalculationState } from "./config.js";
import { spendRuleGroups } from "./rules-spend.js";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  /** Absent where a gap in the data is itself the alert (AthenaExporterDown). */
  readonly keep_firing_for?: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: Annotations & { readonly runbook_url: string };
  /** Why the rule is written as it is; becomes a YAML comment above it. */
  readonly why?: string;
}

/** An alert's summary and description, with extra annotations (free text that must not be a label). */
interface Annotations {
  readonly summary: string;
  readonly description: string;
  readonly [extra: string]: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly why?: string;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertRule | RecordingRule)[];
}

/** The Athena calls discovery makes: a failing one leaves some workgroup's sessions or calculations unlisted. */
export const LISTING_OPERATIONS = ["ListWorkGroups", "GetWorkGroup", "ListSessions", "ListCalculationExecutions", "ListTagsForResource"];

export function ruleGroups(c: MixinConfig): RuleGroup[] {
  /** A selector of `metric` with the job selector and `matchers`. */
  const s = (metric: string, ...matchers: string[]): string => `${metric}{${[c.jobSelector, ...matchers].join(", ")}}`;
  /** An alert with its runbook link, held through a failed scrape unless `hold` is false (mixin/config.ts keepFiringFor). */
  const alert = (
    { alert, why, expr, for: wait, labels, annotations }: Omit<AlertRule, "annotations" | "keep_firing_for"> & { annotations: Annotations },
    hold = true,
  ): AlertRule => ({
    alert,
    ...(why === undefined ? {} : { why }),
    expr,
    for: wait,
    ...(hold ? { keep_firing_for: c.keepFiringFor } : {}),
    labels,
    annotations: { ...annotations, runbook_url: runbookUrl(alert, c) },
  });
  const listing = s(
    "athena_exporter_api_request_failures_total",
    `operation=~"${LISTING_OPERATIONS.join("|")}"`,
    'error!="ThrottlingException"',
  );
  const stuckStates = Object.keys(c.stuckAfterSeconds) as UnfinishedCalculationState[]; // the keys of a Record over that union

  // Template snippets: a query by the alert's own job, instance and ID.
  const calcInfo = (label: string): string =>
    `{{ with printf "athena_calculation_info{job='%s',instance='%s',calculation_execution_id='%s'}" $labels.job $labels.instance $labels.calculation_execution_id | query }}{{ . | first | label "${label}" }}{{ end }}`;
  const reason = (family: string, idLabel: string, state: string): string =>
    `{{ with printf "${family}{job='%s',instance='%s',${idLabel}='%s',state='${state}'}" $labels.job $labels.instance $labels.${idLabel} | query }}{{ . | first | label "reason" }}{{ else }}none given{{ end }}`;
  /** What a session holds now, from its executors (`%[1]s` its instance, `%[2]s` its ID). */
  const sessionDpus = `athena_session_executor_dpus{instance='%[1]s',session_id='%[2]s'}`;
  /** Seconds of idle timeout a session has left: Athena ends it when it runs out. */
  const timeoutLeft = (on: string): string =>
    `${s("athena_session_idle_timeout_seconds")} - on (${on}) (time() - ${s("athena_session_idle_since_timestamp_seconds")})`;
  /** The session's executors' FAILED count; 0 once listed with none (the family leaves a zero out). */
  const failedExecutors = [
    `(sum by (job, instance, session_id, workgroup) (${s("athena_session_executors", 'state="FAILED"')})`,
    `or sum by (job, instance, session_id, workgroup) (${s("athena_session_executor_dpus")}) * 0)`,
  ].join(" ");

  // The completion time of each calculation that finished at most terminationWindowSeconds before its session ended.
  const stoppedBySessionEnd = [
    `(${s("athena_calculation_completion_timestamp_seconds")}`,
    "  >= on (job, instance, session_id) group_left ()",
    `  (${s("athena_session_end_timestamp_seconds")} - ${c.terminationWindowSeconds}))`,
  ].join("\n");

  return [
    {
      name: "athena-calculations",
      rules: [
        {
          record: "athena:calculation_stuck_after_seconds",
          why: "Seconds since submission after which an unfinished calculation is stuck, one series per state (mixin/config.ts stuckAfterSeconds); the dashboard can draw the same thresholds.",
          expr: stuckStates
            .map((state) => `label_replace(vector(${c.stuckAfterSeconds[state]}), "state", "${state}", "", "")`)
            .join("\nor\n"),
        },
        alert({
          alert: "AthenaCalculationFailed",
          why:
            "One alert per failed calculation, from its own state series, while the failure is recent. " +
            "Quiet when its session FAILED: AthenaSessionFailed pages once for the session and counts its failed calculations. " +
            "Quiet too when its session is TERMINATING, or ended at most terminationWindowSeconds after it failed: the session's " +
            "end stopped it, and AthenaSessionTerminatedCalculations pages once and counts them. " +
            "The short for: lets the session's own state catch up with its calculations'.",
          expr: [
            "(",
            `  ${s("athena_calculation_state", 'state="FAILED"')} == 1`,
            "  and on (job, instance, calculation_execution_id)",
            `  (time() - ${s("athena_calculation_completion_timestamp_seconds")}) < ${c.failedRecentSeconds}`,
            ")",
            "unless on (job, instance, session_id)",
            `(${s("athena_session_state", 'state=~"FAILED|TERMINATING"')} == 1)`,
            "unless on (job, instance, calculation_execution_id)",
            stoppedBySessionEnd,
          ].join("\n"),
          for: c.for.calculationFailed,
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena calculation {{ $labels.calculation_execution_id }} failed in workgroup {{ $labels.workgroup }}",
            description:
              `Calculation {{ $labels.calculation_execution_id }} ("${calcInfo("description")}") of session {{ $labels.session_id }} ` +
              `in workgroup {{ $labels.workgroup }} FAILED. Reason: ${reason("athena_calculation_state_reason_info", "calculation_execution_id", "FAILED")}. ` +
              `Working directory: ${calcInfo("working_directory")}`,
            calculation_description: calcInfo("description"),
            working_directory: calcInfo("working_directory"),
          },
        }),
        alert({
          alert: "AthenaCalculationFailureRatioHigh",
          why: `More than ${c.failureRatio * 100}% of the calculations that finished in ${c.failureRatioWindow} failed, counting only workgroups where at least ${c.failureRatioMinFinished} finished. increase() reads a restart's reset to 0 as a reset.`,
          expr: [
            "(",
            `  sum by (job, instance, workgroup) (increase(${s("athena_calculations_finished_total", 'state="FAILED"')}[${c.failureRatioWindow}]))`,
            "  /",
            `  sum by (job, instance, workgroup) (increase(${s("athena_calculations_finished_total")}[${c.failureRatioWindow}]))`,
            `) > ${c.failureRatio}`,
            "and on (job, instance, workgroup)",
            `sum by (job, instance, workgroup) (increase(${s("athena_calculations_finished_total")}[${c.failureRatioWindow}])) >= ${c.failureRatioMinFinished}`,
          ].join("\n"),
          for: c.for.failureRatio,
          labels: { severity: "warning" },
          annotations: {
            summary: "Many Athena calculations fail in workgroup {{ $labels.workgroup }} of {{ $labels.instance }}",
            description: `{{ $value | humanizePercentage }} of the calculations that finished in workgroup {{ $labels.workgroup }} of {{ $labels.instance }} over the last ${c.failureRatioWindow} failed.`,
          },
        }),
        alert({
          alert: "AthenaCalculationStuck",
          why:
            "Unfinished for longer than its state's threshold (athena:calculation_stuck_after_seconds). Read from the last known " +
            "state, which the exporter keeps serving while refreshes fail: a failed refresh neither resolves nor starts this alert " +
            "(AthenaExporterRefreshFailing pages for that), and the description says when the data is not fresh.",
          expr: [
            "(",
            `  ${s("athena_calculation_duration_seconds")}`,
            "  * on (job, instance, calculation_execution_id, session_id, workgroup) group_left (state)",
            `  (${s("athena_calculation_state", `state=~"${stuckStates.join("|")}"`)} == 1)`,
            ")",
            "> on (state) group_left ()",
            "athena:calculation_stuck_after_seconds",
          ].join("\n"),
          for: c.for.stuck,
          labels: { severity: "warning" },
          annotations: {
            summary:
              "Athena calculation {{ $labels.calculation_execution_id }} has been {{ $labels.state }} for {{ $value | humanizeDuration }}",
            description:
              "Calculation {{ $labels.calculation_execution_id }} of session {{ $labels.session_id }} in workgroup {{ $labels.workgroup }} " +
              "is {{ $labels.state }}, submitted {{ $value | humanizeDuration }} ago " +
              "(threshold for {{ $labels.state }}: {{ with printf \"athena:calculation_stuck_after_seconds{state='%s'}\" $labels.state | query }}{{ . | first | value | humanizeDuration }}{{ end }})." +
              `{{ with printf "athena_calculation_up{job='%s',instance='%s',calculation_execution_id='%s'} == 0" $labels.job $labels.instance $labels.calculation_execution_id | query }}` +
              ` Its refreshes fail: this is its last known state{{ with printf "time() - athena_calculation_last_refresh_timestamp_seconds{job='%s',instance='%s',calculation_execution_id='%s'}" $labels.job $labels.instance $labels.calculation_execution_id | query }}, fetched {{ . | first | value | humanizeDuration }} ago{{ end }}.{{ end }}`,
          },
        }),
      ],
    },
    {
      name: "athena-sessions",
      rules: [
        {
          record: "athena:session_idle_alert_threshold_seconds",
          why: "How long a session may stay IDLE before AthenaSessionIdle (mixin/config.ts sessionIdleSeconds); the dashboard's idle panel draws it.",
          expr: `vector(${c.sessionIdleSeconds})`,
        },
        {
          record: "athena:session_idle_timeout_left_alert_threshold_seconds",
          why: "Idle timeout a session must have left for AthenaSessionIdle to page (mixin/config.ts sessionIdleTimeoutLeftSeconds).",
          expr: `vector(${c.sessionIdleTimeoutLeftSeconds})`,
        },
        alert({
          alert: "AthenaSessionFailed",
          why: "One alert per failed session while the failure is recent; it stands for the calculations that failed with it, which do not page on their own.",
          expr: [
            `${s("athena_session_state", 'state="FAILED"')} == 1`,
            "and on (job, instance, session_id, workgroup)",
            `(time() - ${s("athena_session_end_timestamp_seconds")}) < ${c.failedRecentSeconds}`,
          ].join("\n"),
          for: "0m",
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena session {{ $labels.session_id }} failed in workgroup {{ $labels.workgroup }}",
            description:
              `Session {{ $labels.session_id }}{{ with printf "athena_session_info{job='%s',instance='%s',session_id='%s'}" $labels.job $labels.instance $labels.session_id | query }}{{ with . | first | label "description" }} ("{{ . }}"){{ end }}{{ end }} ` +
              `in workgroup {{ $labels.workgroup }} FAILED, and its running calculations with it; those that FAILED, paged here rather than one by one: ` +
              `{{ with printf "count(athena_calculation_state{job='%s',instance='%s',session_id='%s',state='FAILED'} == 1)" $labels.job $labels.instance $labels.session_id | query }}{{ . | first | value }}{{ else }}0{{ end }}. ` +
              `Reason: ${reason("athena_session_state_reason_info", "session_id", "FAILED")}.`,
          },
        }),
        alert({
          alert: "AthenaSessionTerminatedCalculations",
          why:
            "A session that ended TERMINATED (TerminateSession, or its idle timeout) stops the calculations still running in it, " +
            "which then show FAILED: one alert per session for them, counting them, instead of one AthenaCalculationFailed each.",
          expr: [
            "count by (job, instance, session_id, workgroup) (",
            `  (${s("athena_calculation_state", 'state="FAILED"')} == 1)`,
            "  and on (job, instance, calculation_execution_id)",
            `  ${stoppedBySessionEnd.replaceAll("\n", "\n  ")}`,
            ")",
            "and on (job, instance, session_id)",
            `(${s("athena_session_state", 'state="TERMINATED"')} == 1)`,
            "and on (job, instance, session_id)",
            `(time() - ${s("athena_session_end_timestamp_seconds")}) < ${c.failedRecentSeconds}`,
          ].join("\n"),
          for: "0m",
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena session {{ $labels.session_id }} was terminated with {{ $value }} calculations running",
            description:
              `Session {{ $labels.session_id }}{{ with printf "athena_session_info{job='%s',instance='%s',session_id='%s'}" $labels.job $labels.instance $labels.session_id | query }}{{ with . | first | label "description" }} ("{{ . }}"){{ end }}{{ end }} ` +
              "in workgroup {{ $labels.workgroup }} was TERMINATED and stopped {{ $value }} calculations that were still running; " +
              "they show FAILED and are paged here rather than one by one.",
          },
        }),
        alert({
          alert: "AthenaSessionDegraded",
          why: "Athena may recover a session on its own within a few minutes.",
          expr: `${s("athena_session_state", 'state="DEGRADED"')} == 1`,
          for: c.for.sessionDegraded,
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena session {{ $labels.session_id }} is DEGRADED in workgroup {{ $labels.workgroup }}",
            description: `Session {{ $labels.session_id }} in workgroup {{ $labels.workgroup }} has been DEGRADED for ${c.for.sessionDegraded}. Reason: ${reason("athena_session_state_reason_info", "session_id", "DEGRADED")}.`,
          },
        }),
        alert({
          alert: "AthenaSessionIdle",
          why:
            "An IDLE session still bills its DPUs until its own idle timeout ends it. It pages once idle past the threshold with more than " +
            "athena:session_idle_timeout_left_alert_threshold_seconds of its timeout left, so never for a session about to end by itself " +
            "(a session whose timeout is unknown pages). The idle time comes from Athena's IdleSinceDateTime, so a restart does not restart the count; " +
            "the wait is the threshold, hence for: 0m. Read from the last known state, which the exporter keeps serving while refreshes " +
            "fail: a failed refresh does not resolve it (AthenaSessionRefreshFailing pages for that).",
          expr: [
            "(",
            `  time() - ${s("athena_session_idle_since_timestamp_seconds")}`,
            "  and on (job, instance, session_id, workgroup)",
            `  ${s("athena_session_state", 'state="IDLE"')} == 1`,
            ")",
            "> on () group_left",
            "athena:session_idle_alert_threshold_seconds",
            "unless on (job, instance, session_id, workgroup)",
            `(${timeoutLeft("job, instance, session_id, workgroup")})`,
            "<= on () group_left",
            "athena:session_idle_timeout_left_alert_threshold_seconds",
          ].join("\n"),
          for: "0m",
          labels: { severity: "warning" },
          annotations: {
            summary:
              "Athena session {{ $labels.session_id }} in workgroup {{ $labels.workgroup }} has been idle for {{ $value | humanizeDuration }}",
            description:
              "Session {{ $labels.session_id }} in workgroup {{ $labels.workgroup }} has been IDLE for {{ $value | humanizeDuration }} " +
              '(threshold {{ with query "athena:session_idle_alert_threshold_seconds" }}{{ . | first | value | humanizeDuration }}{{ end }}) ' +
              // One decimal at most ("0.9", "2"): humanize would write 0.889 DPUs as "888.9m".
              `and its executors still hold {{ with printf "${sessionDpus}" $labels.instance $labels.session_id | query }}{{ . | first | value | printf "%.1f" | reReplaceAll "\\\\.0$" "" }}{{ else }}an unknown number of{{ end }} DPUs` +
              `{{ with printf "(${sessionDpus}) * on (job, instance) group_left athena_dpu_hour_price_usd" $labels.instance $labels.session_id | query }}, about {{ . | first | value | printf "%.2f" }} USD per hour{{ end }}. ` +
              `{{ with printf "athena_session_idle_timeout_seconds{instance='%s',session_id='%s'} - (time() - athena_session_idle_since_timestamp_seconds{instance='%s',session_id='%s'})" $labels.instance $labels.session_id $labels.instance $labels.session_id | query }}` +
              "Athena ends it by itself only in {{ . | first | value | humanizeDuration }}, when its idle timeout runs out. {{ else }}Its idle timeout is unknown. {{ end }}" +
              "Terminate it if no one uses it.",
          },
        }),
        alert({
          alert: "AthenaExecutorsFailing",
          why:
            "Executors of one session keep failing: a crash loop (out of memory, a bad library, a lost node) that Spark hides by starting new ones. " +
            "Read from the session's FAILED executors, a state Athena lists, not from a counter: a restart or a reload lists the same number " +
            "again, so neither makes an increase; a session first seen with old failures starts from them.",
          expr: [failedExecutors, `- min_over_time(${failedExecutors}[${c.executorFailuresWindow}:1m])`, `>= ${c.executorFailures}`].join(
            "\n",
          ),
          for: c.for.executorsFailing,
          labels: { severity: "warning" },
          annotations: {
            summary: "Executors of Athena session {{ $labels.session_id }} keep failing in workgroup {{ $labels.workgroup }}",
            description:
              `{{ $value }} executors of session {{ $labels.session_id }} in workgroup {{ $labels.workgroup }} FAILED in the last ${c.executorFailuresWindow}. ` +
              `Its executors hold {{ with printf "${sessionDpus}" $labels.instance $labels.session_id | query }}{{ . | first | value | printf "%.1f" | reReplaceAll "\\\\.0$" "" }}{{ else }}an unknown number of{{ end }} DPUs now` +
              `{{ with printf "athena_session_max_concurrent_dpus{instance='%s',session_id='%s'}" $labels.instance $labels.session_id | query }} of the {{ . | first | value }} it may hold{{ end }}. ` +
              "Its calculations run short of executors: read their stderr for why the executors die.",
          },
        }),
        alert({
          alert: "AthenaSessionRefreshFailing",
          why: "Some watched sessions cannot be refreshed from Athena: their state, idle time and DPUs are the last known.",
          expr: `count by (job, instance) (${s("athena_session_up")} == 0) > 0`,
          for: c.for.sessionRefreshFailing,
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $value }} Athena sessions cannot be refreshed by {{ $labels.instance }}",
            description: `For ${c.for.sessionRefreshFailing}, {{ $value }} sessions watched by {{ $labels.instance }} have failed to refresh; their metrics show the last known values. athena_session_refresh_error_info says why.`,
          },
        }),
      ],
    },
    {
      name: "athena-calculation-exporter",
      rules: [
        alert({
          alert: "AthenaExporterRefreshFailing",
          why: "Some watched calculations cannot be refreshed from Athena.",
          expr: `count by (job, instance) (${s("athena_calculation_up")} == 0) > 0`,
          for: c.for.refreshFailing,
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $value }} Athena calculations cannot be refreshed by {{ $labels.instance }}",
            description: `For ${c.for.refreshFailing}, {{ $value }} calculations watched by {{ $labels.instance }} have failed to refresh; their metrics show the last known values. athena_calculation_refresh_error_info says why.`,
          },
        }),
        alert({
          alert: "AthenaExporterDataStale",
          why:
            "Unfinished calculations whose data has not been fetched for a while: refreshes stall (scrape deadline, rate limit) or fail. " +
            "Every calculation counts, whether its last refresh failed or not, so one failed refresh cannot resolve it; where refreshes " +
            "fail, Alertmanager holds it back behind AthenaExporterRefreshFailing (README's inhibit rules).",
          expr: `max by (job, instance) (time() - ${s("athena_calculation_last_refresh_timestamp_seconds")}) > ${c.dataStaleAfterSeconds}`,
          for: c.for.dataStale,
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena calculation data from {{ $labels.instance }} is {{ $value | humanizeDuration }} old",
            description: `The oldest data of an unfinished calculation watched by {{ $labels.instance }} was fetched {{ $value | humanizeDuration }} ago (threshold {{ ${c.dataStaleAfterSeconds} | humanizeDuration }}): states and durations on the dashboard are out of date.`,
          },
        }),
        alert({
          alert: "AthenaExporterDiscoveryStale",
          why: "Discovery has not listed everything without an error for a while, so new sessions and calculations go unseen. Only where discovery has run (its gauges are 0 until then).",
          expr: [
            `time() - ${s("athena_exporter_discovery_last_success_timestamp_seconds")} > ${c.discoveryStaleAfterSeconds}`,
            "and on (job, instance)",
            "(",
            `  ${s("athena_exporter_discovery_last_success_timestamp_seconds")} > 0`,
            "  or",
            `  ${s("athena_exporter_discovery_failures_total")} > 0`,
            ")",
          ].join("\n"),
          for: c.for.discoveryStale,
          labels: { severity: "warning" },
          annotations: {
            summary: "Discovery of {{ $labels.instance }} last succeeded {{ $value | humanizeDuration }} ago",
            description:
              "Discovery of {{ $labels.instance }} has not listed every workgroup, session and calculation without an error for {{ $value | humanizeDuration }}: " +
              "new sessions and calculations go unseen. athena_exporter_discovery_failures_total counts the failed runs; the exporter's log names the workgroup.",
          },
        }),
        alert({
          alert: "AthenaExporterListingFailing",
          why: "A list call of discovery keeps failing (say, one workgroup's ListSessions denied): counted per operation, not as a share of all requests, so one workgroup among many is not diluted.",
          expr: `sum by (job, instance, operation) (increase(${listing}[10m])) > 0`,
          for: c.for.listingFailing,
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.operation }} keeps failing for {{ $labels.instance }}",
            description:
              `{{ $labels.operation }} calls of {{ $labels.instance }} have failed for ${c.for.listingFailing} ({{ $value | humanize }} in the last 10 minutes): ` +
              "some workgroup's sessions or calculations are not listed. The exporter's log names the workgroup and the error.",
          },
        }),
        alert({
          alert: "AthenaExporterConfigReloadFailed",
          why: "A reload was refused; the previous configuration still serves, and the next restart will refuse the file too.",
          expr: `${s("athena_exporter_config_last_reload_successful")} == 0`,
          for: c.for.configReloadFailed,
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.instance }} refused its new configuration",
            description:
              "The last configuration reload of {{ $labels.instance }} failed: it still runs the previous configuration, and would refuse to start with the file as it is. " +
              "Its log names the key that is wrong.",
          },
        }),
        alert({
          alert: "AthenaExporterApiErrors",
          why: `More than ${c.apiErrorRatio * 100}% of Athena API requests failed, throttling aside (AthenaExporterThrottled's).`,
          expr: [
            `sum by (job, instance) (rate(${s("athena_exporter_api_request_failures_total", 'error!="ThrottlingException"')}[5m]))`,
            "/",
            `sum by (job, instance) (rate(${s("athena_exporter_api_requests_total")}[5m]))`,
            `> ${c.apiErrorRatio}`,
          ].join("\n"),
          for: c.for.apiErrors,
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.instance }} cannot reach Athena: {{ $value | humanizePercentage }} of API requests fail",
            description:
              "{{ $value | humanizePercentage }} of the Athena API requests of {{ $labels.instance }} failed over the last 5 minutes (athena_exporter_api_request_failures_total by error tells which).",
          },
        }),
        alert({
          alert: "AthenaExporterThrottled",
          why: "Counts throttled HTTP attempts, including those a retry hid: throttling slows every refresh long before a request fails.",
          expr: `sum by (job, instance) (rate(${s("athena_exporter_api_throttled_attempts_total")}[5m])) > ${c.throttledAttemptsPerSecond}`,
          for: c.for.throttled,
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena throttles {{ $labels.instance }}",
            description: `Athena has throttled {{ $labels.instance }} for ${c.for.throttled} ({{ printf "%.2f" $value }} throttled attempts per second, retries included).`,
          },
        }),
        alert(
          {
            alert: "AthenaExporterDown",
            why:
              "A target Prometheus fails to scrape; a target that vanished from service discovery within the last " +
              `${c.targetVanishedLookback} (its up series stopped); or no target of the job at all.`,
            expr: [
              `${s("up")} == 0`,
              "or on (job, instance)",
              `(max_over_time(${s("up")}[${c.targetVanishedLookback}]) unless on (job, instance) ${s("up")}) * 0`,
              "or",
              `absent(up{job="${c.exporterJob}"})`,
            ].join("\n"),
            for: c.for.down,
            labels: { severity: "critical" },
            annotations: {
              summary: "Athena calculation exporter {{ with $labels.instance }}{{ . }}{{ else }}job {{ $labels.job }}{{ end }} is down",
              description:
                "{{ if $labels.instance }}Prometheus has failed to scrape {{ $labels.instance }} of job {{ $labels.job }}, or it vanished from the targets, " +
                `for ${c.for.down}{{ else }}Prometheus has had no target of job {{ $labels.job }} for ${c.for.down}{{ end }}: no Athena calculation metrics or alerts come from it.`,
            },
          },
          false,
        ),
      ],
    },
    ...spendRuleGroups(c, { s, alert: (rule) => alert(rule) }),
  ];
}
