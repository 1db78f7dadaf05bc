import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import { parse } from "yaml";
import { ALL_FAMILIES } from "../../src/catalog/families.js";
import { mixinConfig, runbookUrl } from "../../mixin/config.js";
import { alertsYaml } from "../../mixin/generate-rules.js";
import { ruleGroups, type AlertRule, type RecordingRule } from "../../mixin/rules.js";
import { requireBinary } from "../helpers.js";

/** The rules as shipped, read back from alerts.yml (the generated file is what users load). */
async function shippedRules(): Promise<(AlertRule | RecordingRule)[]> {
  const doc = parse(await readFile("prometheus/alerts.yml", "utf8")) as { groups: { rules: (AlertRule | RecordingRule)[] }[] }; // promtool checks its shape
  return doc.groups.flatMap((g) => g.rules);
}

const isAlert = (r: AlertRule | RecordingRule): r is AlertRule => "alert" in r;
const isRecording = (r: AlertRule | RecordingRule): r is RecordingRule => "record" in r;

/** Each vector selector of a PromQL expression: its metric name and its label matchers' text; throws on a syntax error. */
function selectors(expr: string): { name: string; matchers: string }[] {
  const found: { name: string; matchers: string }[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from}: …${expr.slice(cursor.from, cursor.from + 40)}`);
    if (cursor.name === "VectorSelector") {
      const node = cursor.node;
      const name = node.getChild("Identifier");
      const matchers = node.getChild("LabelMatchers");
      found.push({
        name: name === null ? "" : expr.slice(name.from, name.to),
        matchers: matchers === null ? "" : expr.slice(matchers.from, matchers.to),
      });
    }
  } while (cursor.next());
  return found;
}

/** The queries an annotation template runs (`printf "…" … | query` or `query "…"`), with printf's verbs filled in. */
function templateQueries(template: string): string[] {
  const piped = [...template.matchAll(/printf "((?:[^"\\]|\\.)*)"[^|}]*\| query/g)];
  const direct = [...template.matchAll(/query "((?:[^"\\]|\\.)*)"/g)];
  return [...piped, ...direct].map((m) => (m[1] ?? "").replace(/%(\[\d+\])?s/g, "x"));
}

interface PromtoolCase {
  readonly alert_rule_test?: { alertname: string; exp_alerts: { exp_labels?: Record<string, string> }[] }[];
}

async function promtoolCases(): Promise<{ alertname: string; exp_alerts: { exp_labels?: Record<string, string> }[] }[]> {
  const files = ["alerts.test.yml", "alerts-weekly.test.yml"];
  const docs = await Promise.all(
    files.map(async (file) => parse(await readFile(`prometheus/${file}`, "utf8")) as { tests: PromtoolCase[] }),
  ); // promtool test rules checks their shape
  return docs.flatMap((doc) => doc.tests.flatMap((t) => t.alert_rule_test ?? []));
}

/** Labels an on-call engineer can route and group on: each has few values, none is free text. */
const BOUNDED_LABELS = new Set([
  "severity",
  "job",
  "instance",
  "calculation_execution_id",
  "session_id",
  "workgroup",
  "state",
  "operation",
]);

describe("alert rules generated from mixin/config.ts", () => {
  it("are what npm run generate:rules makes of the config (alerts.yml is not stale)", async () => {
    assert.equal(await readFile("prometheus/alerts.yml", "utf8"), alertsYaml(), "run npm run generate:rules");
  });

  it("follow a change of the config: a new threshold and job selector reach every rule that uses them", () => {
    const changed = ruleGroups({
      ...mixinConfig,
      jobSelector: 'job="athena"',
      stuckAfterSeconds: { ...mixinConfig.stuckAfterSeconds, RUNNING: 7200 },
    });
    const text = JSON.stringify(changed);
    assert.ok(text.includes('label_replace(vector(7200), \\"state\\", \\"RUNNING\\"'), "RUNNING's stuck threshold");
    assert.ok(!text.includes("athena-calculation-exporter(-process)?"), "the old job selector is gone");
  });

  it("give a workgroup named in spend.workgroupDailyBudgetUsd its own budget, and every other workgroup the default", () => {
    const budget = (config: typeof mixinConfig): string =>
      ruleGroups(config)
        .flatMap((g) => g.rules)
        .find((r) => "record" in r && r.record === "athena:workgroup_daily_spend_budget_usd")?.expr ?? "";
    const changed = budget({ ...mixinConfig, spend: { ...mixinConfig.spend, dailyBudgetUsd: 40, workgroupDailyBudgetUsd: { etl: 500 } } });
    assert.match(changed, /^label_replace\(vector\(500\), "workgroup", "etl", "", ""\)\nor on \(workgroup\)\n/);
    assert.match(changed, /\* 0 \+ 40$/);
    assert.doesNotMatch(budget(mixinConfig), /label_replace/, "no workgroup of its own by default");
    assert.doesNotThrow(() => selectors(changed));
  });

  it("parse as PromQL with Prometheus's own grammar, expressions and annotation queries alike", async () => {
    for (const rule of await shippedRules()) {
      const name = isAlert(rule) ? rule.alert : rule.record;
      assert.doesNotThrow(() => selectors(rule.expr), `${name}'s expr`);
      if (!isAlert(rule)) continue;
      for (const [key, template] of Object.entries(rule.annotations)) {
        for (const query of templateQueries(template)) assert.doesNotThrow(() => selectors(query), `${name}'s ${key} query: ${query}`);
      }
    }
  });

  it("read only metrics the exporter exposes, Prometheus's up, or their own recording rules", async () => {
    const rules = await shippedRules();
    // A histogram family's series are its _bucket, _sum and _count.
    const series = ALL_FAMILIES.flatMap((f) => (f.type === "histogram" ? ["_bucket", "_sum", "_count"].map((x) => f.name + x) : [f.name]));
    const known = new Set([...series, "up", ...rules.filter(isRecording).map((r) => r.record)]);
    const annotationQueries = rules.filter(isAlert).flatMap((r) => Object.values(r.annotations).flatMap(templateQueries));
    assert.ok(annotationQueries.length >= 10, `only ${annotationQueries.length} annotation queries found: the template scan is broken`);
    for (const rule of rules) {
      const queries = [rule.expr, ...(isAlert(rule) ? Object.values(rule.annotations).flatMap(templateQueries) : [])];
      for (const { name } of queries.flatMap(selectors)) {
        assert.ok(known.has(name), `${isAlert(rule) ? rule.alert : rule.record} reads ${name}, which the exporter does not expose`);
      }
    }
  });

  it("select every exporter series with the config's job selector", async () => {
    for (const rule of (await shippedRules()).filter(isAlert)) {
      for (const { name, matchers } of selectors(rule.expr)) {
        if (name.startsWith("athena:")) continue; // recording rules of this file: vector() has no job
        const absentJob = `{job="${mixinConfig.exporterJob}"}`;
        assert.ok(matchers.includes(mixinConfig.jobSelector) || matchers === absentJob, `${rule.alert}: ${name}${matchers}`);
      }
    }
  });

  it("label alerts with bounded identifiers only, job and instance always, free text never", async () => {
    const cases = await promtoolCases();
    for (const rule of (await shippedRules()).filter(isAlert)) {
      assert.deepEqual(Object.keys(rule.labels), ["severity"], `${rule.alert} sets only severity`);
      const fired = cases.filter((c) => c.alertname === rule.alert).flatMap((c) => c.exp_alerts.map((a) => a.exp_labels ?? {}));
      for (const labels of fired) {
        for (const label of Object.keys(labels)) assert.ok(BOUNDED_LABELS.has(label), `${rule.alert} is labelled ${label}`);
        assert.ok("job" in labels, `${rule.alert} fires without job: ${JSON.stringify(labels)}`);
        // Only "no target of the job at all" has no instance to name.
        if (!(rule.alert === "AthenaExporterDown" && Object.keys(labels).length === 2)) {
          assert.ok("instance" in labels, `${rule.alert} fires without instance: ${JSON.stringify(labels)}`);
        }
      }
    }
  });

  it("have promtool cases for every alert that fire and cases that stay quiet", async () => {
    const cases = await promtoolCases();
    for (const rule of (await shippedRules()).filter(isAlert)) {
      const own = cases.filter((c) => c.alertname === rule.alert);
      assert.ok(
        own.some((c) => c.exp_alerts.length > 0),
        `no case where ${rule.alert} fires`,
      );
      assert.ok(
        own.some((c) => c.exp_alerts.length === 0),
        `no case where ${rule.alert} stays quiet`,
      );
    }
  });

  it("link each alert to its section of runbook.md under the config's base URL", async () => {
    const runbook = await readFile("prometheus/runbook.md", "utf8");
    // GitHub's anchor for a heading: lower case, spaces to dashes, other punctuation dropped.
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        (m[1] ?? "")
          .toLowerCase()
          .replace(/[^\w\- ]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    for (const rule of (await shippedRules()).filter(isAlert)) {
      const url = rule.annotations.runbook_url;
      assert.equal(url, runbookUrl(rule.alert), `${rule.alert}'s runbook_url comes from runbookBaseUrl`);
      assert.ok(url.startsWith(`${mixinConfig.runbookBaseUrl}#`));
      const anchor = url.slice(url.indexOf("#") + 1);
      assert.ok(anchors.has(anchor), `runbook.md has no heading whose anchor is #${anchor}`);
    }
  });
});

interface AlertmanagerExample {
  route: { receiver: string; group_by: string[]; routes?: { receiver: string; matchers: string[] }[] };
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: { name: string }[];
}

/** Alertmanager's matcher syntax, `name op "value"`, as a predicate on an alert's labels (regexes anchored, as Alertmanager does). */
function matcher(text: string): (labels: Record<string, string>) => boolean {
  const m = /^(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (m === null) throw new Error(`not an Alertmanager matcher: ${text}`);
  const [, name = "", op, value = ""] = m;
  const re = new RegExp(`^(?:${value})$`);
  return (labels) => {
    const v = labels[name] ?? "";
    return op === "=" ? v === value : op === "!=" ? v !== value : op === "=~" ? re.test(v) : !re.test(v);
  };
}

describe("README's Alertmanager example", () => {
  async function example(): Promise<AlertmanagerExample> {
    return parse(await readFile("prometheus/alertmanager.yml", "utf8")) as AlertmanagerExample; // each field checked below
  }

  it("is prometheus/alertmanager.yml, shown whole in README", async () => {
    const readme = await readFile("README.md", "utf8");
    const block = /<!-- alertmanager-example:start -->\n```yaml\n([\s\S]*?)```\n<!-- alertmanager-example:end -->/.exec(readme);
    assert.ok(block?.[1], "README has no Alertmanager example between its markers");
    assert.equal(block[1], await readFile("prometheus/alertmanager.yml", "utf8"));
  });

  it("passes amtool check-config", () => {
    const out = execFileSync(requireBinary("amtool"), ["check-config", "prometheus/alertmanager.yml"], { encoding: "utf8" });
    assert.match(out, /SUCCESS/);
  });

  it("routes to receivers it defines", async () => {
    const am = await example();
    const receivers = new Set(am.receivers.map((r) => r.name));
    for (const receiver of [am.route.receiver, ...(am.route.routes ?? []).map((r) => r.receiver)]) {
      assert.ok(receivers.has(receiver), `receiver ${receiver} is not defined`);
    }
  });

  it("groups and inhibits by labels the alerts carry, with matchers that each name an alert", async () => {
    const am = await example();
    const cases = await promtoolCases();
    const alertNames = (await shippedRules()).filter(isAlert).map((r) => r.alert);
    const firedLabels = (alert: string): Record<string, string>[] =>
      cases.filter((c) => c.alertname === alert).flatMap((c) => c.exp_alerts.map((a) => ({ alertname: alert, ...(a.exp_labels ?? {}) })));
    const allLabels = new Set(alertNames.flatMap(firedLabels).flatMap((l) => Object.keys(l)));
    for (const label of am.route.group_by) assert.ok(allLabels.has(label), `group_by ${label}: no alert has it`);
    for (const route of am.route.routes ?? []) {
      const matches = route.matchers.map(matcher);
      assert.ok(
        alertNames.flatMap(firedLabels).some((l) => matches.every((m) => m(l))),
        `route ${route.matchers.join(", ")} matches no alert`,
      );
    }
    for (const rule of am.inhibit_rules) {
      const source = rule.source_matchers.map(matcher);
      const target = rule.target_matchers.map(matcher);
      const sources = alertNames.filter((a) => source.every((m) => m({ alertname: a })));
      const targets = alertNames.filter((a) => target.every((m) => m({ alertname: a })));
      assert.ok(sources.length > 0, `source ${rule.source_matchers.join(", ")} names no alert`);
      assert.ok(targets.length > 0, `target ${rule.target_matchers.join(", ")} names no alert`);
      // A target alert without an `equal` label would be inhibited by any source lacking it too.
      for (const alert of targets) {
        for (const labels of firedLabels(alert)) {
          for (const label of rule.equal) assert.ok(label in labels, `inhibited ${alert} lacks ${label}`);
        }
      }
      for (const alert of sources) {
        assert.ok(
          firedLabels(alert).some((labels) => rule.equal.every((label) => label in labels)),
          `inhibiting ${alert} never carries ${rule.equal.join(", ")}`,
        );
      }
    }
  });
});
