import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { Dashboard as GrafanaDashboard, Panel as GrafanaPanel } from "@grafana/schema";
import { metricNames, promqlNodes, readAlertRules, readDashboard, substituteVariables } from "./mixin.js";
import { buildDashboard, dashboardJson, DASHBOARD_FILE } from "../../grafana/dashboard.js";
import { mixinConfig, type MixinConfig } from "../../mixin/config.js";
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
      sim.state.tagWorkGroup("wg", { team: "data-eng" }); // for the cost-per-team panel's join
      // Sessions in every situation the panels and rules read: idle (discovered), and ended in failure (of a listed calculation).
      sim.state.addSession("wg", { idleSinceMs: Date.now() - 3_600_000 });
      const failedSession = sim.state.addSession("wg", { state: "FAILED", stateChangeReason: "out of memory", endedAtMs: Date.now() });
      const ids = [
        sim.state.addCalculation({ sessionId: failedSession.id, state: "FAILED", stateChangeReason: "boom", dpuExecutionMillis: 1 }).id,
        sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", progress: "50%" }).id,
      ];
      return {
        calculations: [...ids, "00000000-0000-4000-8000-000000000404"],
        extraYaml: "discovery: {workgroups: [wg], interval: 100ms, workgroupTags: [team]}",
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
    exposed.add("ALERTS"); // written by Prometheus for the rules' alerts
    const dashboard = await readDashboard();
    const { rules, recordingRules } = await readAlertRules();
    for (const r of recordingRules) exposed.add(r.record); // written by the shipped rules
    const used = [
      ...dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: substituteVariables(t.expr, "1m") })),
      ),
      ...dashboard.annotations.list.map((a) => ({ where: `annotation "${a.name}"`, expr: substituteVariables(a.expr, "1m") })),
      ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...recordingRules.map((r) => ({ where: `recording rule ${r.record}`, expr: r.expr })),
      // Variables: label_values(selector, label)
      ...dashboard.templating.list.flatMap((v) => {
        const query = typeof v.query === "object" && v.query !== null && "query" in v.query ? String(v.query.query) : String(v.query);
        const selector = /^label_values\((.*), *\w+\)$/.exec(query)?.[1];
        return selector === undefined ? [] : [{ where: `variable ${v.name}`, expr: substituteVariables(selector, "1m") }];
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

/** Every panel of the generated dashboard that draws data (rows hold none). */
function dataPanels(d: GrafanaDashboard): GrafanaPanel[] {
  return (d.panels ?? []).filter((p): p is GrafanaPanel => p.type !== "row");
}
const byTitle = (d: GrafanaDashboard, title: string): GrafanaPanel => {
  const found = dataPanels(d).find((p) => p.title === title);
  assert.ok(found, `no panel "${title}"`);
  return found;
};
/** The value at which a panel turns red (its first red step). */
const redAt = (p: GrafanaPanel): number | null | undefined =>
  p.fieldConfig?.defaults.thresholds?.steps.find((s) => s.color === "red")?.value;
const exprs = (p: GrafanaPanel): string[] => (p.targets ?? []).map((t) => String(t.expr));

describe("generated dashboard", () => {
  it("is committed as grafana/dashboard.ts generates it, typed by @grafana/schema (npm run generate:dashboard)", async () => {
    // buildDashboard() returns @grafana/schema's Dashboard: `tsc` (npm run typecheck) fails on a field Grafana's schema does not have.
    const typed: GrafanaDashboard = buildDashboard();
    assert.equal(await readFile(DASHBOARD_FILE, "utf8"), dashboardJson(), "grafana/dashboards/athena-calculations.json is stale");
    assert.ok(typed.schemaVersion >= 39);
    // Runtime checks of what the type cannot say: panel types Grafana ships, row ids unique with panel ids.
    const known = new Set(["row", "stat", "table", "timeseries", "bargauge", "state-timeline"]);
    for (const p of typed.panels ?? []) assert.ok(known.has(p.type), `${p.title ?? ""} has unknown type ${p.type}`);
  });

  it("parses every panel, variable and annotation query with Prometheus's PromQL grammar once variables are filled in", async () => {
    const d = await readDashboard();
    const queries = [
      ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...d.annotations.list.map((a) => a.expr),
      ...d.templating.list.flatMap((v) => {
        const q = typeof v.query === "object" && v.query !== null && "query" in v.query ? String(v.query.query) : "";
        return /^label_values\((.*), *\w+\)$/.exec(q)?.[1] ?? [];
      }),
    ];
    assert.ok(queries.length > 30, `${queries.length} queries`);
    for (const q of queries) assert.doesNotThrow(() => promqlNodes(substituteVariables(q, "1m")), q);
    // The parser does refuse bad PromQL: the check can fail.
    assert.throws(() => promqlNodes("sum by (state) (athena_calculation_state{"), /syntax error/);
    assert.throws(() => substituteVariables('up{job=~"$cluster"}', "1m"), /unreplaced Grafana variable/);
  });

  it("opens with a row that says what is broken and where: firing alerts, sessions, failure ratio, failures, stuck, throttling, exporter health", () => {
    const d = buildDashboard();
    const top = dataPanels(d).filter((p) => p.gridPos?.y === 1);
    assert.deepEqual(
      top.map((p) => p.title),
      [
        "Firing alerts",
        "Sessions: failed, degraded, idle",
        "Worst failure ratio",
        "Failed in the last hour",
        "Stuck now",
        "Throttled now",
        "Exporter up",
        "Failing to refresh",
      ],
    );
    assert.match(
      exprs(byTitle(d, "Firing alerts"))[0] ?? "",
      /^sum by \(alertname\) \(ALERTS\{[^}]*alertstate="firing",alertname=~"Athena\.\+"\}\)/,
    );
    // The last hour whatever the range: Grafana's range variables would keep an old failure red for the range.
    assert.doesNotMatch(exprs(byTitle(d, "Failed in the last hour"))[0] ?? "", /__from|__range/);
    assert.match(exprs(byTitle(d, "Failed in the last hour"))[0] ?? "", new RegExp(`< ${mixinConfig.failedRecentSeconds}\\)`));
    // Red where the alert behind it fires; refresh failures are orange: the alerts wait 15 minutes for them.
    const red: Record<string, number | undefined> = {
      "Firing alerts": 1,
      "Sessions: failed, degraded, idle": 1,
      "Worst failure ratio": mixinConfig.failureRatio,
      "Failed in the last hour": 1,
      "Stuck now": 1,
      "Throttled now": mixinConfig.throttledAttemptsPerSecond,
      "Failing to refresh": undefined,
    };
    for (const p of top) {
      const title = p.title ?? "";
      // Exporter up's colours (red at 0, green at 1) are checked below.
      if (title !== "Exporter up") assert.equal(redAt(p), red[title], title);
      assert.ok((p.links ?? []).length > 0, `${title} links to nothing`);
    }
    const up = byTitle(d, "Exporter up");
    const mapped = up.fieldConfig?.defaults.mappings?.[0];
    assert.deepEqual(mapped?.options, { "0": { text: "DOWN", color: "red", index: 0 }, "1": { text: "UP", color: "green", index: 1 } });
    assert.deepEqual(
      up.fieldConfig?.defaults.thresholds?.steps.map((s) => s.color),
      ["red", "green"],
    );
    assert.equal(byTitle(d, "DPU-hours today").timeFrom, "now/d");
  });

  it("links each panel of the first row to a panel of this dashboard that exists", () => {
    const d = buildDashboard();
    const ids = new Map(dataPanels(d).map((p) => [p.id, p.title]));
    for (const p of dataPanels(d).filter((p) => p.gridPos?.y === 1)) {
      for (const link of (p.links ?? []).filter((l) => (l.url ?? "").startsWith("/d/"))) {
        const id = Number(/viewPanel=(\d+)$/.exec(link.url ?? "")?.[1]);
        assert.equal(ids.get(id), link.title, `${p.title ?? ""} links to panel ${id}`);
      }
    }
  });

  it("draws DPU figures in DPU units, never as seconds", () => {
    const d = buildDashboard();
    for (const title of ["DPU-hours today", "DPU-hours per day", "DPU-hours and estimated cost (selected range)"]) {
      assert.equal(byTitle(d, title).fieldConfig?.defaults.unit, "suffix: DPU-h", title);
    }
    assert.equal(byTitle(d, "DPUs in use now").fieldConfig?.defaults.unit, "suffix: DPUs");
    const drill = byTitle(d, "Duration and DPU of $calculation");
    const dpuRef = drill.targets?.find((t) => String(t.expr).includes("athena_calculation_dpu_execution_seconds"))?.refId;
    assert.deepEqual(drill.fieldConfig?.overrides, [
      { matcher: { id: "byFrameRefID", options: dpuRef }, properties: [{ id: "unit", value: "suffix: DPU-s" }] },
    ]);
  });

  it("takes rates over windows of at least 2 minutes: two refreshes or more", () => {
    for (const p of dataPanels(buildDashboard())) {
      if (exprs(p).some((e) => e.includes("$__rate_interval"))) assert.equal(p.interval, "2m", p.title);
    }
  });

  it("sets thresholds on every panel and never Grafana's default red at 80", () => {
    for (const p of dataPanels(buildDashboard())) {
      const steps = p.fieldConfig?.defaults.thresholds?.steps ?? [];
      assert.ok(steps.length > 0, `${p.title ?? ""} has no thresholds`);
      assert.ok(!steps.some((s) => s.value === 80), `${p.title ?? ""} turns at 80`);
    }
  });

  it("turns red exactly where the alerts of mixin/config.ts fire, and follows the config when it changes", () => {
    const check = (config: MixinConfig) => {
      const d = buildDashboard(config);
      const stuck = Math.min(config.stuckAfterSeconds.RUNNING, config.stuckAfterSeconds.QUEUED);
      assert.equal(redAt(byTitle(d, "Data age")), config.dataStaleAfterSeconds);
      assert.equal(redAt(byTitle(d, "Oldest calculation refresh per target")), config.dataStaleAfterSeconds);
      assert.equal(redAt(byTitle(d, "Discovery age")), config.discoveryStaleAfterSeconds);
      assert.equal(redAt(byTitle(d, "Failure ratio")), config.failureRatio);
      assert.ok(exprs(byTitle(d, "Failure ratio"))[0]?.includes(`[${config.failureRatioWindow}]`));
      assert.equal(redAt(byTitle(d, "Unfinished: time since submission")), stuck);
      // Each state's bars turn red at that state's threshold, as AthenaCalculationStuck does.
      const perState = (byTitle(d, "Unfinished: time since submission").fieldConfig?.overrides ?? []).map((o) => [
        String(o.matcher.options),
        (o.properties[0]?.value as { steps: { value: number | null; color: string }[] }).steps.find((s) => s.color === "red")?.value,
      ]); // the thresholds property's value is a ThresholdsConfig
      assert.deepEqual(
        perState,
        Object.entries(config.stuckAfterSeconds).map(([state, seconds]) => [`^${state} `, seconds]),
      );
      assert.equal(redAt(byTitle(d, "Idle time of idle sessions")), config.sessionIdleSeconds);
      assert.equal(redAt(byTitle(d, "Throttled attempts per second")), config.throttledAttemptsPerSecond);
      assert.equal(redAt(byTitle(d, "Throttled now")), config.throttledAttemptsPerSecond);
      assert.equal(redAt(byTitle(d, "Worst failure ratio")), config.failureRatio);
      // Stuck now compares with the recording rule the config writes, one threshold per state.
      assert.match(exprs(byTitle(d, "Stuck now"))[0] ?? "", /athena:calculation_stuck_after_seconds/);
      assert.match(exprs(byTitle(d, "Stuck now"))[0] ?? "", new RegExp(`state=~"${Object.keys(config.stuckAfterSeconds).join("\\|")}"`));
    };
    check(mixinConfig);
    check({
      ...mixinConfig,
      dataStaleAfterSeconds: 1234,
      discoveryStaleAfterSeconds: 4321,
      failureRatio: 0.5,
      failureRatioWindow: "1h",
      sessionIdleSeconds: 99,
      throttledAttemptsPerSecond: 3,
      stuckAfterSeconds: { ...mixinConfig.stuckAfterSeconds, RUNNING: 77, QUEUED: 88 },
    });
    // The committed JSON is the config's: a hand edit of a threshold fails the staleness test above too.
  });

  it("filters every selector by job and target, and per-calculation and per-session series by workgroup and session", async () => {
    const d = await readDashboard();
    const processWide = new Set(["process_start_time_seconds", "ALERTS"]);
    const all = [
      ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...d.annotations.list.map((a) => ({ where: a.name, expr: a.expr })),
    ];
    for (const { where, expr } of all) {
      const tree = promqlNodes(expr.replaceAll("${__from:date:seconds}", "0").replace(/\$(__rate_interval|__range)/g, "5m"));
      for (const selector of tree.filter((n) => n.name === "VectorSelector")) {
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(selector.text)?.[0] ?? "";
        if (name.startsWith("athena:")) continue; // a recording rule's constant, the same for every target
        assert.match(selector.text, /job=~"\$job"/, `${where}: ${selector.text}`);
        if (processWide.has(name)) continue;
        assert.match(selector.text, /instance=~"\$instance"/, `${where}: ${selector.text}`);
        // athena_calculation_up and _refresh_error_info carry the ID alone: a calculation Athena never answered for has no workgroup.
        // athena_session_up and _refresh_error_info carry the session ID alone, for the same reason.
        if (/^athena_session_(up|refresh_error_info)$/.test(name)) {
          assert.match(selector.text, /session_id=~"\$session"/, `${where}: ${selector.text}`);
        } else if (/^athena_(calculation|session)_/.test(name) && !/^athena_calculation_(up|refresh_error_info)$/.test(name)) {
          assert.match(selector.text, /workgroup=~"\$workgroup"/, `${where}: ${selector.text}`);
          assert.match(selector.text, /session_id=~"\$session"/, `${where}: ${selector.text}`);
        }
      }
    }
    assert.deepEqual(
      d.templating.list.map((v) => v.name),
      ["datasource", "job", "instance", "workgroup", "session", "calculation"],
    );
  });

  it("builds the failed table from the state series, with a link per row to the drill-down, the Athena console and the logs", () => {
    const d = buildDashboard();
    const table = byTitle(d, "Failed calculations");
    const expr = exprs(table)[0] ?? "";
    assert.match(expr, /athena_calculation_state\{[^}]*state="FAILED"/, "the state series is the base");
    assert.match(expr, /\$\{__from:date:seconds\}/, "the time range bounds it");
    const links = table.fieldConfig?.overrides.flatMap((o) => o.properties.filter((p) => p.id === "links").map((p) => p.value)).flat() as {
      title: string;
      url: string;
    }[];
    assert.deepEqual(
      links.map((l) => l.title),
      ["Drill down into this calculation", "Session in the Athena console", "stderr in S3", "stdout in S3"],
    );
    assert.match(links[0]?.url ?? "", /var-calculation=\$\{__data\.fields\.calculation_execution_id\}/);
    assert.match(links[2]?.url ?? "", /stderr_bucket.*stderr_key/);
    const drill = dataPanels(d).filter((p) => (p.title ?? "").includes("$calculation"));
    assert.ok(drill.length >= 3);
    for (const p of drill) for (const e of exprs(p)) assert.match(e, /calculation_execution_id=~"\$calculation"/);
  });

  it("links each panel that shows a problem to the runbook section of its alert", async () => {
    const runbook = await readFile("prometheus/runbook.md", "utf8");
    const anchors = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => (m[1] ?? "").toLowerCase()));
    const d = buildDashboard();
    const linked = dataPanels(d).filter((p) => (p.links ?? []).length > 0);
    for (const title of [
      "Failed in the last hour",
      "Stuck now",
      "Exporter up",
      "Data age",
      "Discovery age",
      "Failed calculations",
      "Last config reload",
    ]) {
      assert.ok(
        linked.some((p) => p.title === title),
        `${title} has no runbook link`,
      );
    }
    for (const p of linked) {
      // Links to another panel of this dashboard are checked above.
      for (const link of (p.links ?? []).filter((l) => !(l.url ?? "").startsWith("/d/"))) {
        const [base, anchor] = (link.url ?? "").split("#");
        assert.equal(base, mixinConfig.runbookBaseUrl);
        if (anchor === undefined && p.title === "Firing alerts") continue; // the whole runbook: any alert may fire
        assert.ok(anchors.has(anchor ?? ""), `${p.title ?? ""} links to #${anchor ?? ""}, which runbook.md does not have`);
      }
    }
  });

  it("uses the self-metrics an on-call engineer needs, and annotates restarts, reloads and firing alerts", async () => {
    const d = await readDashboard();
    const used = new Set(d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(substituteVariables(t.expr, "1m")))));
    for (const name of [
      "athena_calculation_last_refresh_timestamp_seconds",
      "athena_exporter_discovery_last_success_timestamp_seconds",
      "athena_exporter_api_throttled_attempts_total",
      "athena_exporter_config_last_reload_successful",
    ]) {
      assert.ok(used.has(name), `no panel reads ${name}`);
    }
    const annotations = new Map(d.annotations.list.map((a) => [a.name, metricNames(substituteVariables(a.expr, "1m"))]));
    assert.deepEqual(annotations.get("Exporter restarts"), ["process_start_time_seconds"]);
    assert.deepEqual(annotations.get("Config reloads"), ["athena_exporter_config_last_reload_success_timestamp_seconds"]);
    assert.deepEqual(annotations.get("Firing alerts"), ["ALERTS"]);
  });
});
