import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { metricNames, readAlertRules, readDashboard } from "./mixin.js";
import { parseExposition, startStack } from "../helpers.js";

describe("Grafana dashboard", () => {
  it("has unique panel ids and panels that do not overlap", async () => {
    const { panels } = await readDashboard();
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    const cells = new Map<string, string>();
    for (const p of panels) {
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} is wider than the grid`);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const other = cells.get(`${x},${y}`);
          assert.equal(other, undefined, `${p.title} overlaps ${other ?? ""}`);
          cells.set(`${x},${y}`, p.title);
        }
      }
    }
  });

  it("takes its datasource from a variable on every panel and query, and sets a unit on every panel", async () => {
    const dashboard = await readDashboard();
    const datasource = dashboard.templating.list.find((v) => v.name === "datasource");
    assert.equal(datasource?.type, "datasource");
    assert.equal(datasource.query, "prometheus");
    for (const p of dashboard.panels.filter((panel) => panel.type !== "row")) {
      assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);
      assert.ok(p.fieldConfig?.defaults?.unit, `${p.title} has no unit`);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has no query`);
      for (const t of p.targets ?? []) assert.deepEqual(t.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);
    }
    const text = await readFile("grafana/dashboards/athena-calculations.json", "utf8");
    assert.ok(!/"uid":\s*"(?!\$\{datasource\}|athena-calculations)/.test(text), "a hard-coded datasource UID");
  });

  it("offers workgroup and session variables", async () => {
    const names = (await readDashboard()).templating.list.map((v) => v.name);
    assert.ok(names.includes("workgroup") && names.includes("session"));
  });

  it("is provisioned from grafana/ as it is", async () => {
    const provider = parse(await readFile("grafana/provisioning/dashboards/athena.yml", "utf8")) as { providers: { type: string }[] };
    assert.equal(provider.providers[0]?.type, "file");
    const datasource = parse(await readFile("grafana/provisioning/datasources/prometheus.yml", "utf8")) as {
      datasources: { type: string }[];
    };
    assert.equal(datasource.datasources[0]?.type, "prometheus");
  });
});

describe("dashboard and alert rules against the exporter", () => {
  it("use only metrics the exporter exposes", async () => {
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      // Sessions in every situation the panels and rules read: idle (discovered), and ended in failure (of a listed calculation).
      sim.state.addSession("wg", { idleSinceMs: Date.now() - 3_600_000 });
      const failedSession = sim.state.addSession("wg", { state: "FAILED", stateChangeReason: "out of memory", endedAtMs: Date.now() });
      const ids = [
        sim.state.addCalculation({ sessionId: failedSession.id, state: "FAILED", stateChangeReason: "boom", dpuExecutionMillis: 1 }).id,
        sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", progress: "50%" }).id,
      ];
      return {
        calculations: [...ids, "00000000-0000-4000-8000-000000000404"],
        extraYaml: "discovery: {workgroups: [wg], interval: 100ms}",
      };
    });
    let exposed: Set<string>;
    try {
      await stack.scrape();
      await new Promise((r) => setTimeout(r, 300)); // a discovery run
      await stack.scrape();
      exposed = new Set(parseExposition(await stack.scrape()).map((s) => s.name));
    } finally {
      await stack.stop();
    }
    exposed.add("up"); // added by Prometheus to every target
    const dashboard = await readDashboard();
    const { rules, recordingRules } = await readAlertRules();
    for (const r of recordingRules) exposed.add(r.record); // written by the shipped rules
    const used = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...recordingRules.map((r) => ({ where: `recording rule ${r.record}`, expr: r.expr })),
      // Variables: label_values(selector, label)
      ...dashboard.templating.list.flatMap((v) => {
        const query = typeof v.query === "object" && v.query !== null && "query" in v.query ? String(v.query.query) : String(v.query);
        const selector = /^label_values\((.*), *\w+\)$/.exec(query)?.[1];
        return selector === undefined ? [] : [{ where: `variable ${v.name}`, expr: selector }];
      }),
      ...rules.flatMap((r) =>
        // Queries inside annotation templates: {{ printf "rate(metric{...}[5m])" ... | query }} or {{ query "metric" }}
        Object.values(r.annotations ?? {}).flatMap((a) =>
          [...a.matchAll(/(?:printf|query) "([^"]*)"/g)]
            .filter((m) => !(m[1] ?? "").startsWith("%"))
            .map((m) => ({ where: `alert ${r.alert} annotation`, expr: m[1] ?? "" })),
        ),
      ),
    ];
    assert.ok(used.length > 20);
    for (const { where, expr } of used) {
      for (const name of metricNames(expr)) {
        assert.ok(exposed.has(name), `${where} uses ${name}, which the exporter does not expose`);
      }
    }
  });
});
