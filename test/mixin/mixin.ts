import { readFile } from "node:fs/promises";
import { parse } from "yaml";

/** The shipped alert rules and dashboard, read as users load them. */

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

/** The alerting rules of alerts.yml in `rules`, its recording rules (knobs such as the idle threshold) in `recordingRules`. */
export async function readAlertRules(): Promise<{ text: string; rules: AlertRule[]; recordingRules: RecordingRule[] }> {
  const text = await readFile("prometheus/alerts.yml", "utf8");
  const doc = parse(text) as { groups: { rules: (AlertRule | RecordingRule)[] }[] }; // shape checked by promtool check rules
  const all = doc.groups.flatMap((g) => g.rules);
  return {
    text,
    rules: all.filter((r): r is AlertRule => "alert" in r),
    recordingRules: all.filter((r): r is RecordingRule => "record" in r),
  };
}

export interface DashboardTarget {
  readonly expr: string;
  readonly refId: string;
  readonly datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type?: string; uid?: string };
  readonly fieldConfig?: { defaults?: { unit?: string } };
  readonly targets?: DashboardTarget[];
}

export interface Dashboard {
  readonly uid: string;
  readonly schemaVersion: number;
  readonly panels: DashboardPanel[];
  readonly templating: { list: { name: string; type: string; query: unknown; datasource?: unknown; allValue?: string }[] };
}

export async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile("grafana/dashboards/athena-calculations.json", "utf8")) as Dashboard; // checked field by field in dashboard.test.ts
}

/** Grafana's variables replaced the way "All" would: every workgroup, session and job, over the last hour. */
export function substituteVariables(expr: string, rateInterval: string): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$__range", "1h")
    .replaceAll("$workgroup", ".*")
    .replaceAll("$session", ".*")
    .replaceAll("$job", ".+");
}

const PROMQL_WORDS = new Set([
  "sum",
  "by",
  "rate",
  "increase",
  "max",
  "min",
  "count",
  "on",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "without",
  "time",
  "quantile",
  "topk",
  "histogram_quantile",
  "vector",
  "le",
  "avg",
  "ignoring",
  "bool",
  "offset",
  "absent",
  "max_over_time",
  "label_replace",
]);

/** Metric names a PromQL expression reads (label names and functions left out). */
export function metricNames(expr: string): string[] {
  // Names chosen by a selector such as {__name__=~"a|b"}.
  const byName = [...expr.matchAll(/__name__=~?"([a-zA-Z0-9_:|]+)"/g)].flatMap((m) => (m[1] ?? "").split("|"));
  const withoutStrings = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]");
  const byClauses = withoutStrings.replace(/\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = byClauses.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set([...byName, ...names.filter((n) => !PROMQL_WORDS.has(n) && !/^\d/.test(n))])];
}
