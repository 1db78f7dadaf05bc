import { readFile } from "node:fs/promises";
import { parser } from "@prometheus-io/lezer-promql";
import { parse } from "yaml";
import { mixinConfig, type MixinConfig } from "../../mixin/config.js";
import { alertsYaml } from "../../mixin/generate-rules.js";
import { ruleGroups } from "../../mixin/rules.js";

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
  readonly annotations: { list: { name: string; expr: string }[] };
}

export async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile("grafana/dashboards/athena-calculations.json", "utf8")) as Dashboard; // checked field by field in dashboard.test.ts
}

/** The instant the tests evaluate "the selected range" against: the last hour before now. */
export interface Range {
  readonly fromSeconds: number;
  readonly toSeconds: number;
}
const lastHour = (): Range => {
  const now = Math.floor(Date.now() / 1000);
  return { fromSeconds: now - 3600, toSeconds: now };
};

/**
 * Grafana's variables replaced the way "All" would: every job, target,
 * workgroup, session and calculation, over the last hour. Throws on a
 * variable left over, so a new one cannot slip past the tests unreplaced.
 */
export function substituteVariables(expr: string, rateInterval: string, range: Range = lastHour()): string {
  const out = expr
    .replaceAll("${__from:date:seconds}", String(range.fromSeconds))
    .replaceAll("${__to:date:seconds}", String(range.toSeconds))
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$__range", `${range.toSeconds - range.fromSeconds}s`)
    .replaceAll("$__interval", "1m")
    .replaceAll("$workgroup", ".*")
    .replaceAll("$session", ".*")
    .replaceAll("$calculation", ".*")
    .replaceAll("$instance", ".+")
    .replaceAll("$job", ".+");
  // "$1" in label_replace is PromQL's own; any other $name is a Grafana variable.
  const left = /\$(?!\d)\{?[A-Za-z_]/.exec(out.replace(/"\$\d+"/g, '""'));
  if (left !== null) throw new Error(`unreplaced Grafana variable at …${out.slice(left.index, left.index + 30)} in ${expr}`);
  return out;
}

/** Each node of a PromQL expression's syntax tree, parsed by Prometheus's own grammar; throws on a syntax error. */
export function promqlNodes(expr: string): { name: string; text: string }[] {
  const nodes: { name: string; text: string }[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError)
      throw new Error(`PromQL syntax error at ${cursor.from}: …${expr.slice(cursor.from, cursor.from + 40)} in ${expr}`);
    nodes.push({ name: cursor.name, text: expr.slice(cursor.from, cursor.to) });
  } while (cursor.next());
  return nodes;
}

/** Metric names a PromQL expression reads: selector names and `{__name__=~"a|b"}` choices, from the parse tree. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from} in ${expr}`);
    if (cursor.name === "VectorSelector") {
      const id = cursor.node.getChild("Identifier");
      if (id !== null) names.add(expr.slice(id.from, id.to));
    }
    if (cursor.name === "UnquotedLabelMatcher") {
      const label = cursor.node.getChild("LabelName");
      const value = cursor.node.getChild("StringLiteral");
      if (label !== null && value !== null && expr.slice(label.from, label.to) === "__name__") {
        for (const n of (JSON.parse(expr.slice(value.from, value.to)) as string).split("|")) names.add(n);
      }
    }
  } while (cursor.next());
  return [...names];
}

/**
 * The shipped rules from the same config with every `for:` 2 s and `changes`
 * over it: the expressions stay alerts.yml's, so what an end-to-end test
 * proves of them holds for the file, at a test's pace.
 */
export function rulesAtTestPace(changes: Partial<Omit<MixinConfig, "for">> & { readonly for?: Partial<MixinConfig["for"]> } = {}): string {
  const seconds = Object.fromEntries(Object.keys(mixinConfig.for).map((k) => [k, "2s"])) as unknown as MixinConfig["for"]; // same keys, every value a duration
  return alertsYaml(ruleGroups({ ...mixinConfig, ...changes, for: { ...seconds, ...changes.for } }));
}
