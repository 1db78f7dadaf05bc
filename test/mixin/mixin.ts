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

export async function readAlertRules(): Promise<{ text: string; rules: AlertRule[] }> {
  const text = await readFile("prometheus/alerts.yml", "utf8");
  const doc = parse(text) as { groups: { rules: AlertRule[] }[] }; // shape checked by promtool check rules
  return { text, rules: doc.groups.flatMap((g) => g.rules) };
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

/** Grafana's variables replaced the way "All" would: every workgroup, session and job. */
export function substituteVariables(expr: string, rateInterval: string): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
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
  "histogram_quantile",
  "vector",
  "le",
  "avg",
  "ignoring",
  "bool",
  "offset",
]);

/** Metric names a PromQL expression reads (label names and functions left out). */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]");
  const byClauses = withoutStrings.replace(/\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = byClauses.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n) && !/^\d/.test(n)))];
}
