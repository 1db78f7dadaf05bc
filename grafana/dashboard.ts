/**
 * npm run generate:dashboard: writes grafana/dashboards/athena-calculations.json.
 *
 * The dashboard is built here, typed by Grafana's published schema
 * (@grafana/schema), so `tsc` refuses a field Grafana does not know; and its
 * thresholds that mirror an alert read mixin/config.ts, so a panel turns red
 * where the alert fires. test/mixin/dashboard.test.ts fails when the JSON is
 * stale or a mirrored threshold drifts from the config.
 */
import { writeFile } from "node:fs/promises";
import {
  DashboardCursorSync,
  FieldColorModeId,
  MappingType,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type AnnotationQuery,
  type Dashboard,
  type DashboardLink,
  type FieldConfigSource,
  type Panel,
  type RowPanel,
  type ThresholdsConfig,
  type ValueMapping,
  type VariableModel,
} from "@grafana/schema";
import { mixinConfig, runbookUrl, type MixinConfig } from "../mixin/config.js";

export const DASHBOARD_FILE = "grafana/dashboards/athena-calculations.json";
export const DASHBOARD_UID = "athena-calculations";

const DS = { type: "prometheus", uid: "${datasource}" } as const;

// Label matchers every panel applies. Families without a session_id label (the
// per-workgroup counters) cannot narrow by session, so their panels read the
// per-session or per-calculation series instead wherever a session matters.
const TARGET = 'job=~"$job",instance=~"$instance"';
const WORKGROUP = `${TARGET},workgroup=~"$workgroup"`;
const SESSION = `${WORKGROUP},session_id=~"$session"`;
const sel = (matchers: string, extra = ""): string => `{${matchers}${extra === "" ? "" : `,${extra}`}}`;

/** The labels that identify one calculation of one target. */
const CALC_ON = "on (job, instance, calculation_execution_id)";
const CALC_BY = "job, instance, workgroup, session_id, calculation_execution_id";

/** Grafana's start of the selected range in Unix seconds. */
const FROM = "${__from:date:seconds}";

const GREEN = "green";
const RED = "red";
const ORANGE = "orange";

type Step = readonly [value: number | null, color: string];

function thresholds(...steps: Step[]): ThresholdsConfig {
  return { mode: ThresholdsMode.Absolute, steps: steps.map(([value, color]) => ({ value, color })) };
}

/** A panel link to the runbook section of the alert the panel mirrors. */
function runbook(alert: string, config: MixinConfig): DashboardLink {
  return {
    title: `Runbook: ${alert}`,
    url: runbookUrl(alert, config),
    type: "link",
    icon: "doc",
    tooltip: `What to do when ${alert} fires`,
    asDropdown: false,
    includeVars: false,
    keepTime: false,
    tags: [],
    targetBlank: true,
  };
}

interface PanelSpec {
  readonly title: string;
  readonly type: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly { expr: string; legend?: string; instant?: boolean; table?: boolean }[];
  readonly thresholds?: ThresholdsConfig;
  readonly mappings?: ValueMapping[];
  readonly links?: DashboardLink[];
  readonly options?: Record<string, unknown>;
  readonly overrides?: FieldConfigSource["overrides"];
  readonly transformations?: Panel["transformations"];
  readonly custom?: Record<string, unknown>;
  readonly interval?: string;
  readonly timeFrom?: string;
  readonly color?: FieldConfigSource["defaults"]["color"];
  readonly min?: number;
  readonly max?: number;
}

const refIds = "ABCDEFGH";

function panel(id: number, spec: PanelSpec): Panel {
  const p: Panel = {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    gridPos: spec.gridPos,
    datasource: DS,
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        // No panel keeps Grafana's default green-then-red-at-80: a panel without
        // a state to warn of stays one neutral colour.
        thresholds: spec.thresholds ?? thresholds([null, GREEN]),
        mappings: spec.mappings ?? [],
        ...(spec.color === undefined ? {} : { color: spec.color }),
        ...(spec.custom === undefined ? {} : { custom: spec.custom }),
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
      },
      overrides: spec.overrides ?? [],
    },
    options: spec.options ?? {},
    links: spec.links ?? [],
    targets: spec.targets.map((t, i) => ({
      refId: refIds[i] ?? String(i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legend ?? "__auto",
      instant: t.instant ?? false,
      range: !(t.instant ?? false),
      ...(t.table === true ? { format: "table" } : {}),
    })),
  };
  if (spec.transformations !== undefined) p.transformations = spec.transformations;
  if (spec.interval !== undefined) p.interval = spec.interval;
  if (spec.timeFrom !== undefined) p.timeFrom = spec.timeFrom;
  return p;
}

function row(id: number, title: string, y: number): RowPanel {
  return { id, type: "row", title, collapsed: false, panels: [], gridPos: { x: 0, y, w: 24, h: 1 } };
}

const stat = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
  reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
  colorMode: "background",
  graphMode: "none",
  textMode: "value_and_name",
  justifyMode: "auto",
  orientation: "auto",
  ...o,
});

const states = (...pairs: [string, string, string][]): ValueMapping[] => [
  {
    type: MappingType.ValueToText,
    options: Object.fromEntries(pairs.map(([value, text, color], index) => [value, { text, color, index }])),
  },
];

/** A calculation's state series coloured by meaning: FAILED red, the transient states neutral. */
const STATE_COLORS: Record<string, string> = {
  CREATING: "blue",
  CREATED: "blue",
  QUEUED: "blue",
  RUNNING: "blue",
  CANCELING: ORANGE,
  CANCELED: ORANGE,
  COMPLETED: GREEN,
  FAILED: RED,
};
const byStateColor = (label = "state"): FieldConfigSource["overrides"] =>
  Object.entries(STATE_COLORS).map(([state, color]) => ({
    matcher: { id: "byName", options: label === "state" ? state : `${label}=${state}` },
    properties: [{ id: "color", value: { mode: "fixed", fixedColor: color } }],
  }));

/** The failed calculations (value 1) of the current instant, minus those that completed before the range. */
const FAILED_NOW = `max by (${CALC_BY}) (athena_calculation_state${sel(SESSION, 'state="FAILED"')} == 1)`;
const FAILED_IN_RANGE = `(${FAILED_NOW} unless ${CALC_ON} (athena_calculation_completion_timestamp_seconds${sel(SESSION)} < ${FROM}))`;

/** Optional labels joined onto each failed calculation: the labelled series where one exists, else a bare 1 so the row stays. */
function optionalLabels(family: string, labels: string, extra = ""): string {
  const present = `max by (job, instance, calculation_execution_id, ${labels}) (${family}${sel(SESSION, extra)})`;
  return `(${present} or (max by (job, instance, calculation_execution_id) (${FAILED_NOW}) unless ${CALC_ON} ${present}))`;
}

/** s3://bucket/key (or S3://, as the API allows) split into `<prefix>_bucket` and `<prefix>_key` labels, for the S3 console's object URL. */
function splitS3(expr: string, uriLabel: string, prefix: string): string {
  const bucket = `label_replace(${expr}, "${prefix}_bucket", "$1", "${uriLabel}", "[sS]3://([^/]+)/.*")`;
  return `label_replace(${bucket}, "${prefix}_key", "$1", "${uriLabel}", "[sS]3://[^/]+/(.*)")`;
}

/**
 * One row per FAILED calculation in the range, reason or not: the state
 * series is the base, description, reason and log locations are joined on,
 * and the value is the completion time (0 when Athena gave none).
 */
const FAILED_TABLE = splitS3(
  splitS3(
    `((max by (${CALC_BY}) (athena_calculation_completion_timestamp_seconds${sel(SESSION)}) * 1000 and ${CALC_ON} ${FAILED_IN_RANGE})` +
      ` or (${FAILED_IN_RANGE} * 0))` +
      ` * ${CALC_ON} group_left (description) max by (job, instance, calculation_execution_id, description) (athena_calculation_info${sel(SESSION)})` +
      ` * ${CALC_ON} group_left (reason) ${optionalLabels("athena_calculation_state_reason_info", "reason", 'state="FAILED"')}` +
      ` * ${CALC_ON} group_left (stderr_uri, stdout_uri) ${optionalLabels("athena_calculation_result_info", "stderr_uri, stdout_uri")}`,
    "stderr_uri",
    "stderr",
  ),
  "stdout_uri",
  "stdout",
);

function consoleLinks(): unknown[] {
  const vars = "var-datasource=${datasource}&var-job=${__data.fields.job}&var-instance=${__data.fields.instance}";
  return [
    {
      title: "Drill down into this calculation",
      url: `/d/${DASHBOARD_UID}/?${vars}&var-workgroup=\${__data.fields.workgroup}&var-session=\${__data.fields.session_id}&var-calculation=\${__data.fields.calculation_execution_id}&\${__url_time_range}`,
    },
    {
      title: "Session in the Athena console",
      url: "https://console.aws.amazon.com/athena/home#/notebook-explorer/sessions/${__data.fields.session_id}",
      targetBlank: true,
    },
    {
      title: "stderr in S3",
      url: "https://s3.console.aws.amazon.com/s3/object/${__data.fields.stderr_bucket}?prefix=${__data.fields.stderr_key}",
      targetBlank: true,
    },
    {
      title: "stdout in S3",
      url: "https://s3.console.aws.amazon.com/s3/object/${__data.fields.stdout_bucket}?prefix=${__data.fields.stdout_key}",
      targetBlank: true,
    },
  ];
}

const FINISHED_DURATION_BUCKET = "athena_calculations_finished_duration_seconds_bucket";

const STUCK_STATES = Object.keys(mixinConfig.stuckAfterSeconds).join("|");

/** Unfinished calculations past their state's stuck threshold (the recording rule mixin/config.ts writes). */
const STUCK =
  `(athena_calculation_duration_seconds${sel(SESSION)} * ${CALC_ON} group_left (state) ` +
  `(athena_calculation_state${sel(SESSION, `state=~"${STUCK_STATES}"`)} == 1)) > on (state) group_left () athena:calculation_stuck_after_seconds`;

/** Idle time of each IDLE session, from Athena's idle-since time. */
const IDLE = `(time() - athena_session_idle_since_timestamp_seconds${sel(SESSION)}) and on (job, instance, session_id) (athena_session_state${sel(SESSION, 'state="IDLE"')} == 1)`;

/** A panel link to another panel of this dashboard, viewed alone, with the same variables and time range. */
function panelLink(title: string, id: number): DashboardLink {
  return {
    title,
    url: `/d/${DASHBOARD_UID}?viewPanel=${id}`,
    type: "link",
    icon: "dashboard",
    tooltip: `The "${title}" panel`,
    asDropdown: false,
    includeVars: true,
    keepTime: true,
    tags: [],
    targetBlank: false,
  };
}

function variable(name: string, label: string, query: string, allValue: string, extra: Partial<VariableModel> = {}): VariableModel {
  return {
    name,
    label,
    type: "query",
    datasource: DS,
    query: { qryType: 1, query, refId: "PrometheusVariableQueryEditor-VariableQuery" },
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    allValue,
    multi: true,
    sort: VariableSort.alphabeticalAsc,
    options: [],
    regex: "",
    ...extra,
  };
}

/** A Prometheus annotation: the datasource reads expr, step and titleFormat beside the schema's common fields. */
function annotation(name: string, expr: string, iconColor: string, title: string): AnnotationQuery {
  const query = { name, datasource: DS, enable: true, iconColor, expr, step: "60s", titleFormat: title, useValueForTime: false };
  return query;
}

export function buildDashboard(config: MixinConfig = mixinConfig): Dashboard {
  const stuckRunning = Math.min(config.stuckAfterSeconds.RUNNING, config.stuckAfterSeconds.QUEUED);
  let y = 0;
  const panels: (Panel | RowPanel)[] = [];
  const at = (x: number, w: number, h: number) => ({ x, y, w, h });

  // ── At a glance: what is broken, and where, read in five seconds ─────────
  // Each panel links to the panel or runbook section that explains it.
  panels.push(row(1, "At a glance", y++));
  const failedRecent = `(time() - athena_calculation_completion_timestamp_seconds${sel(SESSION)}) < ${config.failedRecentSeconds}`;
  const sessionFailedRecent =
    `athena_session_state${sel(SESSION, 'state="FAILED"')} == 1 and on (job, instance, session_id) ` +
    `(time() - athena_session_end_timestamp_seconds${sel(SESSION)}) < ${config.failedRecentSeconds}`;
  const idleOver = `(${IDLE}) > ${config.sessionIdleSeconds}`;
  const finished = (extra = ""): string =>
    `sum by (job, instance, workgroup) (increase(athena_calculations_finished_total${sel(WORKGROUP, extra)}[${config.failureRatioWindow}]))`;
  panels.push(
    panel(34, {
      title: "Firing alerts",
      type: "stat",
      gridPos: at(0, 5, 4),
      description:
        "This exporter's alerts firing now in this Prometheus (its ALERTS series), by name and count: the first thing to read. Each alert's section of the runbook says what to do.",
      unit: "none",
      targets: [
        {
          expr: `sum by (alertname) (ALERTS${sel(TARGET, 'alertstate="firing",alertname=~"Athena.+"')}) or on () label_replace(vector(0), "alertname", "none", "", "")`,
          legend: "{{alertname}}",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [1, RED]),
      links: [
        { ...runbook("AthenaCalculationFailed", config), title: "Runbook", url: config.runbookBaseUrl, tooltip: "Every alert's runbook" },
      ],
      options: stat({ textMode: "value_and_name", orientation: "horizontal" }),
    }),
    panel(35, {
      title: "Sessions: failed, degraded, idle",
      type: "stat",
      gridPos: at(5, 5, 4),
      description: `Sessions FAILED within the last ${config.failedRecentSeconds / 60} minutes, DEGRADED now, and IDLE for longer than ${config.sessionIdleSeconds / 60} minutes while still billing their DPUs: what AthenaSessionFailed, AthenaSessionDegraded and AthenaSessionIdle count. The Sessions row names them.`,
      unit: "none",
      targets: [
        { expr: `count(${sessionFailedRecent}) or vector(0)`, legend: "failed", instant: true },
        { expr: `count(athena_session_state${sel(SESSION, 'state="DEGRADED"')} == 1) or vector(0)`, legend: "degraded", instant: true },
        { expr: `count(${idleOver}) or vector(0)`, legend: "idle", instant: true },
      ],
      thresholds: thresholds([null, GREEN], [1, RED]),
      links: [
        panelLink("Sessions by state", 20),
        panelLink("Idle time of idle sessions", 21),
        runbook("AthenaSessionFailed", config),
        runbook("AthenaSessionDegraded", config),
        runbook("AthenaSessionIdle", config),
      ],
      options: stat({ textMode: "value_and_name" }),
    }),
    panel(36, {
      title: "Worst failure ratio",
      type: "stat",
      gridPos: at(10, 3, 4),
      description: `The workgroup with the highest share of FAILED among the calculations that finished in the last ${config.failureRatioWindow}, where at least ${config.failureRatioMinFinished} finished, as AthenaCalculationFailureRatioHigh reads it; red above ${config.failureRatio * 100}%.`,
      unit: "percentunit",
      targets: [
        {
          expr: `topk(1, (${finished('state="FAILED"')} / ${finished()}) and ${finished()} >= ${config.failureRatioMinFinished}) or on () label_replace(vector(0), "workgroup", "none", "", "")`,
          legend: "{{workgroup}}",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [config.failureRatio, RED]),
      links: [panelLink("Failure ratio", 12), runbook("AthenaCalculationFailureRatioHigh", config)],
      options: stat({ textMode: "value_and_name" }),
    }),
    panel(2, {
      title: "Failed in the last hour",
      type: "stat",
      gridPos: at(13, 2, 4),
      description: `Calculations that completed FAILED within the last ${config.failedRecentSeconds / 60} minutes (whatever the dashboard's range), as AthenaCalculationFailed sees them. Any is red; the Failed calculations table lists them.`,
      unit: "none",
      targets: [
        {
          expr: `count(athena_calculation_state${sel(SESSION, 'state="FAILED"')} == 1 and ${CALC_ON} ${failedRecent}) or vector(0)`,
          legend: "failed",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [1, RED]),
      links: [panelLink("Failed calculations", 9), runbook("AthenaCalculationFailed", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(3, {
      title: "Stuck now",
      type: "stat",
      gridPos: at(15, 2, 4),
      description:
        "Unfinished calculations older than their state's stuck threshold (mixin/config.ts stuckAfterSeconds), as AthenaCalculationStuck sees them.",
      unit: "none",
      targets: [{ expr: `count(${STUCK}) or vector(0)`, legend: "stuck", instant: true }],
      thresholds: thresholds([null, GREEN], [1, RED]),
      links: [panelLink("Unfinished: time since submission", 13), runbook("AthenaCalculationStuck", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(37, {
      title: "Throttled now",
      type: "stat",
      gridPos: at(17, 3, 4),
      description: `Throttled HTTP attempts per second to Athena over 5 minutes, retries included; red above ${config.throttledAttemptsPerSecond}, where AthenaExporterThrottled fires.`,
      unit: "reqps",
      targets: [
        {
          expr: `sum(rate(athena_exporter_api_throttled_attempts_total${sel(TARGET)}[5m])) or vector(0)`,
          legend: "throttled",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [config.throttledAttemptsPerSecond, RED]),
      links: [panelLink("Throttled attempts per second", 25), runbook("AthenaExporterThrottled", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(4, {
      title: "Exporter up",
      type: "stat",
      gridPos: at(20, 2, 4),
      description: "Prometheus's `up` per scraped target: DOWN means Prometheus cannot scrape it, and every other panel shows old data.",
      unit: "none",
      targets: [{ expr: `up${sel(TARGET)}`, legend: "{{instance}}", instant: true }],
      thresholds: thresholds([null, RED], [1, GREEN]),
      mappings: states(["0", "DOWN", RED], ["1", "UP", GREEN]),
      links: [runbook("AthenaExporterDown", config)],
      options: stat(),
    }),
    panel(38, {
      title: "Failing to refresh",
      type: "stat",
      gridPos: at(22, 2, 4),
      description:
        "Calculations and sessions whose last refresh from Athena failed (athena_calculation_up, athena_session_up at 0): their panels show the last known values. The exporter's status page names them with their error.",
      unit: "none",
      targets: [
        {
          expr: `count(athena_calculation_up${sel(TARGET)} == 0) + count(athena_session_up${sel(TARGET, 'session_id=~"$session"')} == 0) or count(athena_calculation_up${sel(TARGET)} == 0) or count(athena_session_up${sel(TARGET, 'session_id=~"$session"')} == 0) or vector(0)`,
          legend: "failing",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [1, ORANGE]),
      links: [
        panelLink("Calculations that fail to refresh", 23),
        runbook("AthenaExporterRefreshFailing", config),
        runbook("AthenaSessionRefreshFailing", config),
      ],
      options: stat({ textMode: "value" }),
    }),
  );
  y += 4;
  panels.push(
    panel(5, {
      title: "Data age",
      type: "stat",
      gridPos: at(0, 8, 3),
      description:
        "Oldest fetch from Athena among unfinished calculations. Red at mixin/config.ts dataStaleAfterSeconds, where AthenaExporterDataStale fires.",
      unit: "s",
      targets: [{ expr: `max(time() - athena_calculation_last_refresh_timestamp_seconds${sel(SESSION)})`, legend: "age", instant: true }],
      thresholds: thresholds([null, GREEN], [config.dataStaleAfterSeconds / 2, ORANGE], [config.dataStaleAfterSeconds, RED]),
      links: [runbook("AthenaExporterDataStale", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(6, {
      title: "Discovery age",
      type: "stat",
      gridPos: at(8, 8, 3),
      description:
        "Time since discovery last listed every workgroup completely. Red at mixin/config.ts discoveryStaleAfterSeconds, where AthenaExporterDiscoveryStale fires.",
      unit: "s",
      targets: [
        {
          expr: `max(time() - athena_exporter_discovery_last_success_timestamp_seconds${sel(TARGET)})`,
          legend: "discovery",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [config.discoveryStaleAfterSeconds / 2, ORANGE], [config.discoveryStaleAfterSeconds, RED]),
      links: [runbook("AthenaExporterDiscoveryStale", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(7, {
      title: "DPU-hours today",
      type: "stat",
      gridPos: at(16, 8, 3),
      description: "DPU-hours the selected sessions used since midnight (dashboard time zone). A cost figure, not a problem: one colour.",
      unit: "suffix: DPU-h",
      targets: [
        {
          expr: `sum(increase(athena_session_dpu_execution_seconds${sel(SESSION)}[$__range])) / 3600 or vector(0)`,
          legend: "DPU-hours",
          instant: true,
        },
      ],
      timeFrom: "now/d",
      thresholds: thresholds([null, "blue"]),
      options: stat({ textMode: "value", colorMode: "value" }),
    }),
  );
  y += 3;

  // ── Calculations ───────────────────────────────────────────────────────────
  panels.push(row(8, "Calculations", y++));
  panels.push(
    panel(9, {
      title: "Failed calculations",
      type: "table",
      gridPos: at(0, 24, 9),
      description:
        "Every calculation that ended FAILED within the selected range, built from its state series so failures without a reason show. Click an ID for its drill-down, the Athena console or its logs in S3.",
      unit: "dateTimeAsIso",
      targets: [{ expr: FAILED_TABLE, instant: true, table: true }],
      thresholds: thresholds([null, RED]),
      mappings: [{ type: MappingType.ValueToText, options: { "0": { text: "unknown", index: 0 } } }],
      links: [runbook("AthenaCalculationFailed", config)],
      transformations: [
        {
          id: "organize",
          options: {
            excludeByName: {
              Time: true,
              job: true,
              stderr_bucket: true,
              stderr_key: true,
              stdout_bucket: true,
              stdout_key: true,
            },
            indexByName: {
              calculation_execution_id: 0,
              workgroup: 1,
              session_id: 2,
              description: 3,
              reason: 4,
              Value: 5,
              stderr_uri: 6,
              stdout_uri: 7,
              instance: 8,
            },
            renameByName: {
              calculation_execution_id: "Calculation",
              workgroup: "Workgroup",
              session_id: "Session",
              description: "Description",
              reason: "Reason",
              Value: "Completed",
              stderr_uri: "stderr",
              stdout_uri: "stdout",
              instance: "Target",
            },
          },
        },
      ],
      overrides: [
        { matcher: { id: "byName", options: "calculation_execution_id" }, properties: [{ id: "links", value: consoleLinks() }] },
        { matcher: { id: "byName", options: "Value" }, properties: [{ id: "custom.cellOptions", value: { type: "color-text" } }] },
      ],
      options: { showHeader: true, sortBy: [{ displayName: "Completed", desc: true }] },
    }),
  );
  y += 9;
  panels.push(
    panel(10, {
      title: "Calculations by state now",
      type: "timeseries",
      gridPos: at(0, 8, 8),
      description: "How many watched calculations are in each state, over time. FAILED red, COMPLETED green, transient states blue.",
      unit: "none",
      targets: [{ expr: `sum by (state) (athena_calculation_state${sel(SESSION)})`, legend: "{{state}}" }],
      overrides: byStateColor(),
      custom: { drawStyle: "line", stacking: { mode: "normal", group: "A" }, fillOpacity: 30 },
    }),
    panel(11, {
      title: "Finished per minute by state",
      type: "timeseries",
      gridPos: at(8, 8, 8),
      description: "Calculations finishing per minute per state (the workgroup counters: they do not narrow by session).",
      unit: "none",
      interval: "2m",
      targets: [
        {
          expr: `sum by (state) (rate(athena_calculations_finished_total${sel(WORKGROUP)}[$__rate_interval])) * 60`,
          legend: "{{state}}",
        },
      ],
      overrides: byStateColor(),
    }),
    panel(12, {
      title: "Failure ratio",
      type: "timeseries",
      gridPos: at(16, 8, 8),
      description: `Share of finishing calculations that FAILED, per workgroup, over ${config.failureRatioWindow} as AthenaCalculationFailureRatioHigh reads it; red above mixin/config.ts failureRatio.`,
      unit: "percentunit",
      targets: [
        {
          expr:
            `sum by (job, instance, workgroup) (increase(athena_calculations_finished_total${sel(WORKGROUP, 'state="FAILED"')}[${config.failureRatioWindow}]))` +
            ` / sum by (job, instance, workgroup) (increase(athena_calculations_finished_total${sel(WORKGROUP)}[${config.failureRatioWindow}]))`,
          legend: "{{instance}} {{workgroup}}",
        },
      ],
      thresholds: thresholds([null, GREEN], [config.failureRatio, RED]),
      custom: { thresholdsStyle: { mode: "line+area" } },
      min: 0,
      max: 1,
      links: [runbook("AthenaCalculationFailureRatioHigh", config)],
    }),
  );
  y += 8;
  panels.push(
    panel(13, {
      title: "Unfinished: time since submission",
      type: "bargauge",
      gridPos: at(0, 12, 8),
      description: `Each unfinished calculation and how long since it was submitted; red where AthenaCalculationStuck fires, at its state's threshold (mixin/config.ts stuckAfterSeconds: ${Object.entries(
        config.stuckAfterSeconds,
      )
        .map(([state, seconds]) => `${state} ${seconds} s`)
        .join(", ")}).`,
      unit: "s",
      targets: [
        {
          expr: `athena_calculation_duration_seconds${sel(SESSION)} * ${CALC_ON} group_left (state) (athena_calculation_state${sel(SESSION, `state=~"${STUCK_STATES}"`)} == 1)`,
          legend: "{{state}} {{calculation_execution_id}}",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [stuckRunning / 2, ORANGE], [stuckRunning, RED]),
      // Each bar is named "<state> <id>": its state's own threshold, as the alert has.
      overrides: Object.entries(config.stuckAfterSeconds).map(([state, seconds]) => ({
        matcher: { id: "byRegexp", options: `^${state} ` },
        properties: [{ id: "thresholds", value: thresholds([null, GREEN], [seconds / 2, ORANGE], [seconds, RED]) }],
      })),
      links: [runbook("AthenaCalculationStuck", config)],
      options: { displayMode: "basic", orientation: "horizontal", showUnfilled: true },
    }),
    panel(14, {
      title: "Duration of calculations completed in range (percentiles)",
      type: "stat",
      gridPos: at(12, 12, 8),
      description:
        "p50, p90 and p99 of submission-to-completion time of the calculations that COMPLETED in the selected range, from the histogram athena_calculations_finished_duration_seconds: any range, weeks included, not only what the exporter still holds. It has no session label, so the session variable does not narrow it. Estimated within a bucket (1 s to 24 h, steps of about 2).",
      unit: "s",
      targets: [0.5, 0.9, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (increase(${FINISHED_DURATION_BUCKET}${sel(WORKGROUP, 'state="COMPLETED"')}[$__range])))`,
        legend: `p${String(q * 100)}`,
        instant: true,
      })),
      thresholds: thresholds([null, "blue"]),
      options: stat({ colorMode: "value" }),
    }),
  );
  y += 8;

  // ── DPU ─────────────────────────────────────────────────────────────────────
  panels.push(row(15, "DPU and cost", y++));
  panels.push(
    panel(16, {
      title: "DPU-hours per day",
      type: "timeseries",
      gridPos: at(0, 12, 8),
      description: "DPU-hours the selected sessions used per day: one bar a day, the same whatever the zoom.",
      unit: "suffix: DPU-h",
      interval: "1d",
      targets: [
        {
          expr: `sum by (workgroup) (increase(athena_session_dpu_execution_seconds${sel(SESSION)}[1d])) / 3600`,
          legend: "{{workgroup}}",
        },
      ],
      custom: { drawStyle: "bars", fillOpacity: 80, stacking: { mode: "normal", group: "A" } },
    }),
    panel(17, {
      title: "DPUs in use now",
      type: "timeseries",
      gridPos: at(12, 12, 8),
      description:
        "DPU-seconds per second (that is, DPUs) the selected sessions use, per workgroup: a rate of the cumulative figure. Its rate window is at least 2 minutes (panel min interval), so it covers two refreshes or more at the shipped cache.ttl and a 30 s scrape.",
      unit: "suffix: DPUs",
      interval: "2m",
      targets: [
        {
          expr: `sum by (workgroup) (rate(athena_session_dpu_execution_seconds${sel(SESSION)}[$__rate_interval]))`,
          legend: "{{workgroup}}",
        },
      ],
    }),
  );
  y += 8;
  panels.push(
    panel(18, {
      title: "DPU-hours and estimated cost (selected range)",
      type: "table",
      gridPos: at(0, 24, 6),
      description: "DPU-hours per workgroup over the selected range and their cost at athena_dpu_hour_price_usd.",
      unit: "suffix: DPU-h",
      targets: [
        {
          expr: `sum by (workgroup) (increase(athena_session_dpu_execution_seconds${sel(SESSION)}[$__range])) / 3600`,
          instant: true,
          table: true,
        },
        {
          expr:
            `sum by (workgroup) (increase(athena_session_dpu_execution_seconds${sel(SESSION)}[$__range])` +
            ` * on (job, instance) group_left athena_dpu_hour_price_usd${sel(TARGET)}) / 3600`,
          instant: true,
          table: true,
        },
      ],
      transformations: [{ id: "merge", options: {} }],
      overrides: [{ matcher: { id: "byName", options: "Value #B" }, properties: [{ id: "unit", value: "currencyUSD" }] }],
    }),
  );
  y += 6;

  // ── Over weeks: durations and spend, from the histograms and counters (any range) ─
  panels.push(row(60, "Durations and spend over weeks", y++));
  const price = `athena_dpu_hour_price_usd${sel(TARGET)}`;
  /** An info series' labels as they last were in the range: a session or workgroup gone since still has its row. */
  const lastInfo = (family: string, matchers: string, by: string): string =>
    `max by (${by}) (last_over_time(${family}${sel(matchers)}[$__range]))`;
  const teamLabel = `tag_${config.teamTagKey.replace(/[^a-zA-Z0-9_]/g, "_")}`;
  panels.push(
    panel(61, {
      title: "Duration percentiles per workgroup (p50, p95 over an hour)",
      type: "timeseries",
      gridPos: at(0, 12, 8),
      description: `p50 and p95 duration of the calculations COMPLETED per workgroup over the hour before each point, from the recording rules athena:calculations_finished_duration_seconds:p50_1h and :p95_1h. AthenaCalculationsSlowerThanUsual fires when the p95 over ${config.slowdown.window} exceeds ${config.slowdown.factor} times the ${config.slowdown.baseline} p95.`,
      unit: "s",
      targets: [
        { expr: `athena:calculations_finished_duration_seconds:p50_1h${sel(WORKGROUP)}`, legend: "p50 {{workgroup}}" },
        { expr: `athena:calculations_finished_duration_seconds:p95_1h${sel(WORKGROUP)}`, legend: "p95 {{workgroup}}" },
      ],
      links: [runbook("AthenaCalculationsSlowerThanUsual", config)],
    }),
    panel(62, {
      title: "DPU-seconds per calculation in range (percentiles)",
      type: "stat",
      gridPos: at(12, 12, 8),
      description:
        "p50, p95 and p99 of the DPU-seconds of each calculation that finished in the selected range, from the histogram athena_calculations_finished_dpu_execution_seconds: what one calculation costs, which its duration does not say. Estimated within a bucket (10 DPU-s to 300 DPU-h, steps of about 3).",
      unit: "suffix: DPU-s",
      targets: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (increase(athena_calculations_finished_dpu_execution_seconds_bucket${sel(WORKGROUP)}[$__range])))`,
        legend: `p${String(q * 100)}`,
        instant: true,
      })),
      thresholds: thresholds([null, "blue"]),
      options: stat({ colorMode: "value" }),
    }),
  );
  y += 8;
  panels.push(
    panel(63, {
      title: "Top sessions by DPU-hours (selected range)",
      type: "table",
      gridPos: at(0, 24, 8),
      description:
        "The ten sessions that used the most DPU-hours in the selected range, with who ran them: description, execution role and notebook version (athena_session_info as it last was in the range). Sessions are kept for discovery.retention after they end; a range longer than that shows the top among those Prometheus still has series of.",
      unit: "suffix: DPU-h",
      targets: [
        {
          expr:
            `topk(10, sum by (job, instance, workgroup, session_id) (increase(athena_session_dpu_execution_seconds${sel(SESSION)}[$__range])) / 3600)` +
            ` * on (job, instance, session_id) group_left (description, execution_role, notebook_version) ` +
            lastInfo("athena_session_info", SESSION, "job, instance, session_id, description, execution_role, notebook_version"),
          instant: true,
          table: true,
        },
      ],
      transformations: [
        { id: "organize", options: { excludeByName: { Time: true, job: true }, indexByName: { session_id: 0, workgroup: 1, Value: 2 } } },
        { id: "sortBy", options: { sort: [{ field: "Value", desc: true }] } },
      ],
      links: [runbook("AthenaWorkgroupSpendSpike", config)],
    }),
  );
  y += 8;
  const costBy = (label: string, dpuHours: string, info: string): string =>
    `sum by (${label}) (${dpuHours} * on (job, instance${label === "execution_role" ? ", session_id" : ", workgroup"}) group_left (${label}) ${info} * on (job, instance) group_left () ${price})`;
  panels.push(
    panel(64, {
      title: "Estimated cost per execution role (selected range)",
      type: "bargauge",
      gridPos: at(0, 8, 8),
      description:
        "What the sessions that ran as each IAM execution role cost in the selected range, at athena_dpu_hour_price_usd: the team or pipeline behind a shared workgroup. Read from the per-session series, so it covers the sessions Prometheus has series of in the range.",
      unit: "currencyUSD",
      targets: [
        {
          expr: costBy(
            "execution_role",
            `increase(athena_session_dpu_execution_seconds${sel(SESSION)}[$__range]) / 3600`,
            lastInfo("athena_session_info", SESSION, "job, instance, session_id, execution_role"),
          ),
          legend: "{{execution_role}}",
          instant: true,
        },
      ],
      color: { mode: FieldColorModeId.Fixed, fixedColor: "blue" },
      options: { displayMode: "basic", orientation: "horizontal" },
    }),
    panel(65, {
      title: `Estimated cost per team (tag ${config.teamTagKey}, selected range)`,
      type: "bargauge",
      gridPos: at(8, 8, 8),
      description: `What each team's workgroups cost in the selected range: the workgroups' DPU counter joined with their "${config.teamTagKey}" tag (discovery.workgroupTags must list it; mixin/config.ts teamTagKey names it), at athena_dpu_hour_price_usd. A workgroup without the tag counts under an empty team.`,
      unit: "currencyUSD",
      targets: [
        {
          expr: costBy(
            teamLabel,
            `increase(athena_sessions_dpu_execution_seconds_total${sel(WORKGROUP)}[$__range]) / 3600`,
            lastInfo("athena_workgroup_tags", WORKGROUP, `job, instance, workgroup, ${teamLabel}`),
          ),
          legend: `{{${teamLabel}}}`,
          instant: true,
        },
      ],
      color: { mode: FieldColorModeId.Fixed, fixedColor: "blue" },
      options: { displayMode: "basic", orientation: "horizontal" },
    }),
    panel(66, {
      title: "Spend over the last 24 hours against the daily budget",
      type: "timeseries",
      gridPos: at(16, 8, 8),
      description: `Each workgroup's cost over the 24 hours before each point (athena:workgroup_spend_usd:increase1d) and its daily budget (athena:workgroup_daily_spend_budget_usd, from mixin/config.ts spend: ${config.spend.dailyBudgetUsd} USD unless set per workgroup). AthenaWorkgroupDailySpendOverBudget fires where the first crosses the second.`,
      unit: "currencyUSD",
      targets: [
        { expr: `athena:workgroup_spend_usd:increase1d${sel(WORKGROUP)}`, legend: "{{workgroup}}" },
        { expr: `athena:workgroup_daily_spend_budget_usd{workgroup=~"$workgroup"}`, legend: "budget {{workgroup}}" },
      ],
      overrides: [
        {
          matcher: { id: "byFrameRefID", options: "B" },
          properties: [
            { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
            { id: "color", value: { mode: "fixed", fixedColor: RED } },
          ],
        },
      ],
      links: [runbook("AthenaWorkgroupDailySpendOverBudget", config)],
    }),
  );
  y += 8;

  // ── Sessions ────────────────────────────────────────────────────────────────
  panels.push(row(19, "Sessions", y++));
  panels.push(
    panel(20, {
      title: "Sessions by state",
      type: "bargauge",
      gridPos: at(0, 8, 8),
      description: "Watched sessions per state now; FAILED and DEGRADED red.",
      unit: "none",
      targets: [{ expr: `sum by (state) (athena_session_state${sel(SESSION)})`, legend: "{{state}}", instant: true }],
      overrides: [
        ...["FAILED", "DEGRADED"].map((s) => ({
          matcher: { id: "byName", options: s },
          properties: [{ id: "color", value: { mode: "fixed", fixedColor: RED } }],
        })),
      ],
      color: { mode: FieldColorModeId.Fixed, fixedColor: "blue" },
      links: [runbook("AthenaSessionFailed", config), runbook("AthenaSessionDegraded", config)],
      options: { displayMode: "basic", orientation: "horizontal" },
    }),
    panel(21, {
      title: "Idle time of idle sessions",
      type: "timeseries",
      gridPos: at(8, 16, 8),
      description: `Idle time per IDLE session; red above mixin/config.ts sessionIdleSeconds (${config.sessionIdleSeconds} s), where AthenaSessionIdle fires.`,
      unit: "s",
      targets: [{ expr: `max by (workgroup, session_id) (${IDLE})`, legend: "{{workgroup}} {{session_id}}" }],
      thresholds: thresholds([null, GREEN], [config.sessionIdleSeconds, RED]),
      custom: { thresholdsStyle: { mode: "line+area" } },
      links: [runbook("AthenaSessionIdle", config)],
    }),
  );
  y += 8;
  panels.push(
    panel(39, {
      title: "Executor DPUs against MaxConcurrentDpus",
      type: "timeseries",
      gridPos: at(0, 16, 8),
      description:
        "DPUs held now by each session's executors not ended (ListExecutors), as a share of the session's MaxConcurrentDpus. " +
        "Raising MaxConcurrentDpus allocates nothing: a session near 100% is starved for executors, one far below it with " +
        "queued work has executors failing or not starting.",
      unit: "percentunit",
      min: 0,
      max: 1,
      targets: [
        {
          expr:
            `max by (workgroup, session_id) (athena_session_executor_dpus${sel(SESSION)}` +
            ` / on (job, instance, session_id, workgroup) (athena_session_max_concurrent_dpus${sel(SESSION)} > 0))`,
          legend: "{{workgroup}} {{session_id}}",
        },
      ],
      thresholds: thresholds([null, GREEN], [0.9, RED]),
      custom: { thresholdsStyle: { mode: "line+area" } },
    }),
    panel(40, {
      title: "Executor failures",
      type: "timeseries",
      gridPos: at(16, 8, 8),
      description:
        "Executors per minute this exporter saw go FAILED, per workgroup (athena_executors_failed_total). " +
        "AthenaExecutorsFailing pages when one session loses several in a short time.",
      unit: "suffix: /min",
      interval: "2m",
      targets: [
        {
          expr: `sum by (workgroup) (rate(athena_executors_failed_total${sel(WORKGROUP)}[$__rate_interval])) * 60`,
          legend: "{{workgroup}}",
        },
      ],
      links: [runbook("AthenaExecutorsFailing", config)],
    }),
  );
  y += 8;

  // ── Exporter health ─────────────────────────────────────────────────────────
  panels.push(row(22, "Exporter health", y++));
  panels.push(
    panel(23, {
      title: "Calculations that fail to refresh",
      type: "stat",
      gridPos: at(0, 6, 5),
      description: "Watched calculations whose last refresh from Athena failed; their state is the last one known. Any is red.",
      unit: "none",
      targets: [{ expr: `count(athena_calculation_up${sel(TARGET)} == 0) or vector(0)`, instant: true }],
      thresholds: thresholds([null, GREEN], [1, RED]),
      links: [runbook("AthenaExporterRefreshFailing", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(24, {
      title: "Last config reload",
      type: "stat",
      gridPos: at(6, 6, 5),
      description: "Whether the last configuration reload succeeded; FAILED means the exporter runs on the previous file.",
      unit: "none",
      targets: [{ expr: `min(athena_exporter_config_last_reload_successful${sel(TARGET)})`, instant: true }],
      thresholds: thresholds([null, RED], [1, GREEN]),
      mappings: states(["0", "FAILED", RED], ["1", "OK", GREEN]),
      links: [runbook("AthenaExporterConfigReloadFailed", config)],
      options: stat({ textMode: "value" }),
    }),
    panel(25, {
      title: "Throttled attempts per second",
      type: "stat",
      gridPos: at(12, 6, 5),
      description: `HTTP attempts Athena throttled, retries included; red above mixin/config.ts throttledAttemptsPerSecond (${config.throttledAttemptsPerSecond}/s).`,
      unit: "reqps",
      targets: [{ expr: `sum(rate(athena_exporter_api_throttled_attempts_total${sel(TARGET)}[5m])) or vector(0)`, instant: true }],
      thresholds: thresholds([null, GREEN], [config.throttledAttemptsPerSecond, RED]),
      links: [runbook("AthenaExporterThrottled", config)],
      options: stat({ textMode: "value", graphMode: "area" }),
    }),
    panel(26, {
      title: "Oldest calculation refresh per target",
      type: "stat",
      gridPos: at(18, 6, 5),
      description: "Per target, the age of the oldest fetch among unfinished calculations.",
      unit: "s",
      targets: [
        {
          expr: `max by (instance) (time() - athena_calculation_last_refresh_timestamp_seconds${sel(SESSION)})`,
          legend: "{{instance}}",
          instant: true,
        },
      ],
      thresholds: thresholds([null, GREEN], [config.dataStaleAfterSeconds, RED]),
      links: [runbook("AthenaExporterDataStale", config)],
      options: stat(),
    }),
  );
  y += 5;
  panels.push(
    panel(27, {
      title: "Athena API requests",
      type: "timeseries",
      gridPos: at(0, 8, 7),
      description: "The exporter's request rate to Athena, per operation.",
      unit: "reqps",
      interval: "2m",
      targets: [
        { expr: `sum by (operation) (rate(athena_exporter_api_requests_total${sel(TARGET)}[$__rate_interval]))`, legend: "{{operation}}" },
      ],
    }),
    panel(28, {
      title: "Athena API errors",
      type: "timeseries",
      gridPos: at(8, 8, 7),
      description: "Failed requests per error code.",
      unit: "reqps",
      interval: "2m",
      targets: [
        {
          expr: `sum by (error) (rate(athena_exporter_api_request_failures_total${sel(TARGET)}[$__rate_interval]))`,
          legend: "{{error}}",
        },
      ],
      color: { mode: FieldColorModeId.Fixed, fixedColor: RED },
      links: [runbook("AthenaExporterApiErrors", config)],
    }),
    panel(29, {
      title: "Athena API latency (p99)",
      type: "timeseries",
      gridPos: at(16, 8, 7),
      description: "99th percentile of Athena's answer time per operation.",
      unit: "s",
      interval: "2m",
      targets: [
        {
          expr: `histogram_quantile(0.99, sum by (le, operation) (rate(athena_exporter_api_request_duration_seconds_bucket${sel(TARGET)}[$__rate_interval])))`,
          legend: "{{operation}}",
        },
      ],
    }),
  );
  y += 7;

  // ── Drill-down of one calculation ($calculation) ────────────────────────────
  panels.push(row(30, "Calculation drill-down ($calculation)", y++));
  const CALC = `${SESSION},calculation_execution_id=~"$calculation"`;
  panels.push(
    panel(31, {
      title: "State of $calculation",
      type: "state-timeline",
      gridPos: at(0, 12, 6),
      description: "The calculation's state over time: when it was queued, ran and finished.",
      unit: "none",
      targets: [{ expr: `max by (calculation_execution_id, state) (athena_calculation_state${sel(CALC)} == 1)`, legend: "{{state}}" }],
      overrides: byStateColor(),
    }),
    panel(32, {
      title: "Details of $calculation",
      type: "table",
      gridPos: at(12, 12, 6),
      description: "Description, working directory and Athena's reason for the calculation's state.",
      unit: "none",
      targets: [
        {
          expr: `max by (${CALC_BY}, description, working_directory, result_type) (athena_calculation_info${sel(CALC)})`,
          instant: true,
          table: true,
        },
        { expr: `max by (${CALC_BY}, state, reason) (athena_calculation_state_reason_info${sel(CALC)})`, instant: true, table: true },
      ],
      transformations: [{ id: "merge", options: {} }],
    }),
  );
  y += 6;
  panels.push(
    panel(33, {
      title: "Duration and DPU of $calculation",
      type: "timeseries",
      gridPos: at(0, 24, 6),
      description: "Duration since submission (seconds) and DPU-seconds used (DPUs times seconds), as each refresh saw them.",
      unit: "s",
      targets: [
        {
          expr: `max by (calculation_execution_id) (athena_calculation_duration_seconds${sel(CALC)})`,
          legend: "duration {{calculation_execution_id}}",
        },
        {
          expr: `max by (calculation_execution_id) (athena_calculation_dpu_execution_seconds${sel(CALC)})`,
          legend: "DPU-seconds {{calculation_execution_id}}",
        },
      ],
      // DPU-seconds are not seconds: the second query gets its own unit.
      overrides: [{ matcher: { id: "byFrameRefID", options: "B" }, properties: [{ id: "unit", value: "suffix: DPU-s" }] }],
    }),
  );

  return {
    uid: DASHBOARD_UID,
    title: "Athena Spark calculations",
    description:
      "Amazon Athena for Apache Spark calculation executions and sessions, from athena-calculation-exporter. Generated by grafana/dashboard.ts.",
    tags: ["athena", "spark", "prometheus-exporter"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    time: { from: "now-6h", to: "now" },
    refresh: "1m",
    timezone: "browser",
    links: [
      { ...runbook("AthenaCalculationFailed", config), title: "Runbook", url: config.runbookBaseUrl, tooltip: "All alerts' runbook" },
    ],
    annotations: {
      list: [
        annotation(
          "Exporter restarts",
          `changes(process_start_time_seconds{job=~"$job"}[2m]) > 0`,
          ORANGE,
          "Exporter {{instance}} restarted",
        ),
        annotation(
          "Config reloads",
          `changes(athena_exporter_config_last_reload_success_timestamp_seconds${sel(TARGET)}[2m]) > 0`,
          "blue",
          "Configuration reloaded on {{instance}}",
        ),
        annotation(
          "Firing alerts",
          `ALERTS{alertstate="firing",alertname=~"Athena.*",job=~"$job"}`,
          RED,
          "{{alertname}} {{workgroup}} {{calculation_execution_id}}",
        ),
      ],
    },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          refresh: VariableRefresh.onDashboardLoad,
          regex: "",
          includeAll: false,
          multi: false,
          options: [],
        },
        variable("job", "Job", "label_values(athena_exporter_api_requests_total, job)", ".+"),
        variable("instance", "Target", 'label_values(athena_exporter_api_requests_total{job=~"$job"}, instance)', ".+"),
        variable(
          "workgroup",
          "Workgroup",
          `label_values({__name__=~"athena_calculation_state|athena_session_state",${TARGET}}, workgroup)`,
          ".*",
        ),
        variable(
          "session",
          "Session",
          `label_values({__name__=~"athena_calculation_state|athena_session_state",${WORKGROUP}}, session_id)`,
          ".*",
        ),
        variable("calculation", "Calculation", `label_values(athena_calculation_state${sel(SESSION)}, calculation_execution_id)`, ".*", {
          multi: false,
        }),
      ],
    },
    panels,
  };
}

/** The file's text: two-space JSON with a final newline, as committed. */
export function dashboardJson(config: MixinConfig = mixinConfig): string {
  return `${JSON.stringify(buildDashboard(config), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  await writeFile(DASHBOARD_FILE, dashboardJson());
}
