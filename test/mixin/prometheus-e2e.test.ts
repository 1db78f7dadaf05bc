import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { memoryLogger, type Stack, startStack, testConfig, testDeps, waitFor } from "../helpers.js";
import { readAlertRules, readDashboard, substituteVariables } from "./mixin.js";
import { startPrometheus, type RunningPrometheus } from "../prometheus-server.js";

const HOUR = 3_600_000;

/**
 * The shipped rules with every `for:` read in seconds instead of minutes,
 * so alerts that wait minutes in production fire within this test; the
 * promtool unit tests check the real durations.
 */
function compressFor(rules: string): string {
  // Subquery windows too (AthenaExecutorsFailing's 15 minutes at 1-minute steps): seconds at 1-second steps.
  return rules.replace(/^(\s+for: )(\d+)m$/gm, "$1$2s").replace(/\[(\d+)m:1m\]/g, "[$1s:1s]");
}

type Alert = Awaited<ReturnType<RunningPrometheus["alerts"]>>[number];

/** The first firing alert of that name that `matches`, once Prometheus has one. */
async function firingAlert(prometheus: RunningPrometheus, name: string, matches: (a: Alert) => boolean = () => true): Promise<Alert> {
  let found: Alert | undefined;
  await waitFor(
    async () => {
      found = (await prometheus.alerts()).find((a) => a.labels.alertname === name && a.state === "firing" && matches(a));
      return found !== undefined;
    },
    30_000,
    `${name} to fire`,
  );
  if (found === undefined) throw new Error(`${name} did not fire`);
  return found;
}

/** Every annotation query (variables as "All"), run so Prometheus refuses any it cannot evaluate; their results by name. */
async function annotationResults(prometheus: RunningPrometheus): Promise<Map<string, number>> {
  const dashboard = await readDashboard();
  const results = new Map<string, number>();
  for (const a of dashboard.annotations.list) {
    results.set(a.name, (await prometheus.query(substituteVariables(a.expr, "1m"))).result.length);
  }
  return results;
}

/** The failed table's rows as Prometheus returns them to Grafana (labels and value), variables as "All". */
async function failedTableRows(prometheus: RunningPrometheus): Promise<{ metric: Record<string, string>; value?: [number, string] }[]> {
  const table = (await readDashboard()).panels.find((p) => p.title === "Failed calculations");
  const expr = table?.targets?.[0]?.expr;
  assert.ok(expr !== undefined, "no Failed calculations table");
  return (await prometheus.query(substituteVariables(expr, "1m"))).result;
}

/** Every dashboard panel query (variables as "All") that returns no data. */
async function emptyPanelQueries(prometheus: RunningPrometheus): Promise<string[]> {
  const dashboard = await readDashboard();
  // Give rate() windows a few samples after the transitions.
  await new Promise((r) => setTimeout(r, 3000));
  const empty: string[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      const expr = substituteVariables(target.expr, "1m");
      if ((await prometheus.query(expr)).result.length === 0) empty.push(`${panel.title} [${target.refId}]: ${expr}`);
    }
  }
  return empty;
}

describe("with a real Prometheus scraping the exporter", () => {
  let stack: Stack;
  let prometheus: RunningPrometheus;
  const ids = { failing: "", stuck: "", finishing: "", canceled: "", queued: "", etl: "" };
  let idleSession = "";
  let spark35Session = "";
  let crashLoopSession = "";

  before(async () => {
    stack = await startStack((sim) => {
      const now = Date.now();
      sim.state.tagWorkGroup("analytics-spark", { team: "data-science" });
      sim.state.tagWorkGroup("etl-spark", { team: "data-eng" });
      const analytics = sim.state.addSession("analytics-spark");
      const etl = sim.state.addSession("etl-spark");
      // Sessions alone: one idle for 45 minutes, and a workgroup on the engine without calculations.
      idleSession = sim.state.addSession("analytics-spark", {
        idleSinceMs: now - 45 * 60_000,
        startedAtMs: now - 50 * 60_000,
        idleTimeoutMinutes: 480,
      }).id;
      // A session whose four workers will fail one after another once Prometheus sees them: an executor crash loop.
      crashLoopSession = sim.state.addSession("analytics-spark", { state: "BUSY", description: "crash loop" }).id;
      sim.state.executors.addWorkers(crashLoopSession, 4, now - 60_000, undefined);
      sim.state.addWorkGroup("interactive-spark35", "Apache Spark version 3.5");
      spark35Session = sim.state.addSession("interactive-spark35").id;
      // RUNNING at the first scrape, FAILED a few scrapes later: the first
      // failure of its workgroup, and one that happens between scrapes.
      ids.failing = sim.state.addCalculation({
        sessionId: analytics.id,
        description: "train churn model",
        state: "RUNNING",
        submittedAtMs: now - 60_000,
        schedule: [{ atMs: now + 4000, state: "FAILED", reason: "OutOfMemoryError: Java heap space" }],
      }).id;
      ids.stuck = sim.state.addCalculation({ sessionId: analytics.id, state: "RUNNING", submittedAtMs: now - 2 * HOUR }).id;
      ids.finishing = sim.state.addCalculation({
        sessionId: analytics.id,
        state: "RUNNING",
        submittedAtMs: now - 120_000,
        schedule: [{ atMs: now + 3000, state: "COMPLETED" }],
      }).id;
      ids.queued = sim.state.addCalculation({ sessionId: analytics.id, state: "QUEUED" }).id;
      ids.canceled = sim.state.addCalculation({
        sessionId: etl.id,
        state: "CANCELED",
        stateChangeReason: "Canceled by user",
        dpuExecutionMillis: 500,
      }).id;
      ids.etl = sim.state.addCalculation({
        sessionId: etl.id,
        state: "RUNNING",
        submittedAtMs: now - 30_000,
        schedule: [{ atMs: now + 5000, state: "COMPLETED" }],
      }).id;
      return {
        calculations: Object.values(ids),
        extraYaml:
          "cache: {ttl: 500ms}\ndiscovery: {workgroups: [analytics-spark, etl-spark, interactive-spark35], interval: 1s, workgroupTags: [team]}",
      };
    });
    const target = new URL(stack.server.url).host;
    prometheus = await startPrometheus(target, compressFor((await readAlertRules()).text));
  });

  after(async () => {
    await prometheus.stop();
    await stack.stop();
  });

  it("fires AthenaCalculationFailed for the failed calculation, with its labels and reason", async () => {
    const failed = await firingAlert(prometheus, "AthenaCalculationFailed");
    assert.equal(failed.labels.calculation_execution_id, ids.failing);
    assert.equal(failed.labels.workgroup, "analytics-spark");
    assert.equal(failed.labels.severity, "warning");
    // Free text is no alert label (it would become part of the alert's identity): it is an annotation.
    assert.equal(failed.labels.description, undefined);
    assert.equal(failed.annotations.calculation_description, "train churn model");
    assert.match(failed.annotations.description ?? "", /Reason: OutOfMemoryError: Java heap space\./);
    const firing = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaCalculationFailed");
    assert.deepEqual(
      firing.map((a) => a.labels.calculation_execution_id),
      [ids.failing],
      "only the FAILED calculation alerts",
    );
  });

  it("fires AthenaCalculationStuck for the calculation held RUNNING, not for the others", async () => {
    await firingAlert(prometheus, "AthenaCalculationStuck");
    const stuck = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaCalculationStuck");
    assert.deepEqual(
      stuck.map((a) => [a.labels.calculation_execution_id, a.labels.state]),
      [[ids.stuck, "RUNNING"]],
    );
  });

  it("fires AthenaSessionIdle for the session idle 45 minutes, naming its workgroup and how long", async () => {
    const idle = await firingAlert(prometheus, "AthenaSessionIdle");
    assert.equal(idle.labels.session_id, idleSession);
    assert.equal(idle.labels.workgroup, "analytics-spark");
    assert.match(idle.annotations.description ?? "", /analytics-spark/);
    // What its executors hold (its coordinator), in words, and how long its 480-minute timeout lets it bill.
    assert.match(
      idle.annotations.description ?? "",
      /its executors still hold 1 DPUs, about 0\.35 USD per hour\. Athena ends it by itself only in 7h 1\dm/,
    );
    const firing = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaSessionIdle" && a.state === "firing");
    assert.deepEqual(
      firing.map((a) => a.labels.session_id),
      [idleSession],
      "only the long-idle session alerts",
    );
  });

  it("fires AthenaExecutorsFailing for the session whose executors crash-loop, and for no other", async () => {
    await waitFor(
      async () => (await prometheus.query(`athena_session_executor_dpus{session_id="${crashLoopSession}"}`)).result[0]?.value?.[1] === "5",
      30_000,
      "the crash-looping session's coordinator and four workers scraped",
    );
    for (const worker of stack.simulator.state.executors.listed(crashLoopSession).filter((e) => e.type === "WORKER")) {
      stack.simulator.state.executors.setState(worker.id, "FAILED");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const failing = await firingAlert(prometheus, "AthenaExecutorsFailing");
    assert.equal(failing.labels.session_id, crashLoopSession);
    assert.match(
      failing.annotations.description ?? "",
      /^[34] executors of session .* FAILED in the last 15m\. Its executors hold 1 DPUs now of the 20 it may hold\./,
    );
    const firing = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaExecutorsFailing" && a.state === "firing");
    assert.deepEqual(
      firing.map((a) => a.labels.session_id),
      [crashLoopSession],
    );
    const failed = await prometheus.query('sum(athena_executors_failed_total{workgroup="analytics-spark"})');
    assert.equal(failed.result[0]?.value?.[1], "4", "each failure counted once");
  });

  it("watches the sessions of an Apache Spark 3.5 workgroup, and asks it for no calculations", async () => {
    const info = await prometheus.query('athena_workgroup_info{workgroup="interactive-spark35"}');
    assert.equal(info.result[0]?.metric.engine_version, "Apache Spark version 3.5");
    const state = await prometheus.query(`athena_session_state{session_id="${spark35Session}",state="IDLE"}`);
    assert.equal(state.result[0]?.value?.[1], "1");
    assert.equal(stack.simulator.calls("ListCalculationExecutions", spark35Session), 0);
    const failures = await prometheus.query("sum(athena_exporter_discovery_failures_total)");
    assert.equal(failures.result[0]?.value?.[1], "0");
  });

  it("sees the first FAILED of a workgroup as an increase of its counter", async () => {
    await waitFor(
      async () => {
        const r = await prometheus.query('increase(athena_calculations_finished_total{workgroup="analytics-spark",state="FAILED"}[1m])');
        return Number(r.result[0]?.value?.[1] ?? 0) > 0;
      },
      30_000,
      "increase() to see the failure",
    );
  });

  it("returns data for every query of every dashboard panel", async () => {
    assert.deepEqual(await emptyPanelQueries(prometheus), [], "panels whose query returned nothing");
  });

  it("says who spent the DPU-hours: top sessions with their execution role, cost per role and per team, duration percentiles from the histogram", async () => {
    const panelRows = async (title: string) => {
      const expr = (await readDashboard()).panels.find((p) => p.title.startsWith(title))?.targets?.[0]?.expr;
      assert.ok(expr !== undefined, `no panel ${title}`);
      return (await prometheus.query(substituteVariables(expr, "1m"))).result;
    };
    const top = await panelRows("Top sessions by DPU-hours");
    assert.ok(top.length > 0 && top.length <= 10);
    for (const row of top) {
      assert.equal(row.metric.execution_role, `arn:aws:iam::123456789012:role/AthenaSparkExecution-${row.metric.workgroup ?? ""}`);
      assert.equal(row.metric.notebook_version, "Athena notebook version 1");
    }
    const roles = (await panelRows("Estimated cost per execution role")).map((r) => r.metric.execution_role).sort();
    assert.deepEqual(roles, [
      "arn:aws:iam::123456789012:role/AthenaSparkExecution-analytics-spark",
      "arn:aws:iam::123456789012:role/AthenaSparkExecution-etl-spark",
      "arn:aws:iam::123456789012:role/AthenaSparkExecution-interactive-spark35",
    ]);
    const teams = (await panelRows("Estimated cost per team")).map((r) => r.metric.tag_team).sort();
    assert.ok(teams.includes("data-science") && teams.includes("data-eng"), JSON.stringify(teams));
    await waitFor(
      async () => (await panelRows("Duration of calculations completed in range")).some((r) => Number(r.value?.[1]) > 0),
      30_000,
      "a percentile of the calculations that completed while watched",
    );
  });

  it("fills the workgroup and session variables", async () => {
    assert.deepEqual((await prometheus.labelValues("workgroup", "athena_calculation_state")).sort(), ["analytics-spark", "etl-spark"]);
    const sessions = await prometheus.labelValues("session_id", 'athena_calculation_state{workgroup=~".*"}');
    assert.equal(sessions.length, 2);
    assert.equal((await prometheus.labelValues("job", "athena_exporter_api_requests_total")).length, 1);
  });
});

describe("with a real Prometheus scraping two targets of one exporter", () => {
  const simulator = new AthenaSimulator();
  let running: RunningServer;
  let prometheus: RunningPrometheus;
  let failedInB = "";
  let failedWithoutReason = "";

  before(async () => {
    const now = Date.now();
    simulator.state.tagWorkGroup("wg-a", { team: "team-a" });
    const a = simulator.state.addSession("wg-a");
    simulator.state.addSession("wg-a", { idleSinceMs: now - 45 * 60_000 });
    const b = simulator.state.addSession("wg-b");
    const idsA = [
      simulator.state.addCalculation({
        sessionId: a.id,
        state: "COMPLETED",
        submittedAtMs: now - 60_000,
        completedAtMs: now - 30_000,
        dpuExecutionMillis: 500,
      }).id,
      simulator.state.addCalculation({ sessionId: a.id, state: "RUNNING", submittedAtMs: now - 2 * HOUR }).id,
      simulator.state.addCalculation({ sessionId: a.id, state: "QUEUED" }).id,
      // Athena gives no StateChangeReason for every failure: the failed table must still list it.
      (failedWithoutReason = simulator.state.addCalculation({
        sessionId: a.id,
        description: "nightly export",
        state: "FAILED",
        submittedAtMs: now - 90_000,
        completedAtMs: now - 60_000,
        dpuExecutionMillis: 1000,
      }).id),
      simulator.state.addCalculation({
        sessionId: a.id,
        state: "RUNNING",
        submittedAtMs: now - 10_000,
        schedule: [{ atMs: now + 3000, state: "COMPLETED" }],
      }).id,
    ];
    failedInB = simulator.state.addCalculation({
      sessionId: b.id,
      state: "RUNNING",
      submittedAtMs: now - 20_000,
      schedule: [{ atMs: now + 3000, state: "FAILED", reason: "ModuleNotFoundError: No module named 'pandas'" }],
    }).id;
    const endpoint = await simulator.start(0, "127.0.0.1");
    running = await startServer(
      testConfig(
        [
          `aws: {region: us-east-1, endpoint: "${endpoint}", stsEndpoint: "${endpoint}", maxAttempts: 1}`,
          "cache: {ttl: 500ms}",
          "targets:",
          `  - {name: team-a, calculations: [${idsA.join(", ")}], discovery: {workgroups: [wg-a], interval: 1s, workgroupTags: [team]}}`,
          `  - {name: team-b, calculations: [${failedInB}]}`,
        ].join("\n"),
      ),
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memoryLogger().logger) },
    );
    // The shipped multi-target scrape config, pointed at this exporter.
    const shipped = parse(await readFile("prometheus/prometheus-multi-target.yml", "utf8")) as {
      scrape_configs: { static_configs: { targets: string[]; labels?: Record<string, string> }[]; scrape_timeout?: string }[];
    };
    const address = new URL(running.url).host;
    const scrapeConfigs = shipped.scrape_configs.map((job, i) => ({
      ...job,
      scrape_timeout: "1s",
      static_configs: job.static_configs.map(() =>
        i === 0 ? { targets: ["team-a", "team-b"], labels: { exporter: address } } : { targets: [address] },
      ),
    }));
    prometheus = await startPrometheus({ scrapeConfigs }, compressFor((await readAlertRules()).text));
  });

  after(async () => {
    await prometheus.stop();
    await running.close();
    await simulator.stop();
  });

  it("fires AthenaCalculationFailed for the failure in one target, labelled with that target", async () => {
    const failed = await firingAlert(prometheus, "AthenaCalculationFailed", (a) => a.labels.instance === "team-b");
    assert.equal(failed.labels.calculation_execution_id, failedInB);
    assert.equal(failed.labels.instance, "team-b");
    assert.match(failed.annotations.description ?? "", /No module named 'pandas'/);
    await firingAlert(prometheus, "AthenaCalculationStuck", (a) => a.labels.instance === "team-a");
  });

  it("returns data for every query of every dashboard panel across both targets", async () => {
    assert.deepEqual(await emptyPanelQueries(prometheus), [], "panels whose query returned nothing");
    assert.deepEqual((await prometheus.labelValues("instance", "athena_calculation_state")).sort(), ["team-a", "team-b"]);
  });

  it("lists a FAILED calculation without a reason in the failed table, with its description, completion time and stderr URI", async () => {
    await firingAlert(prometheus, "AthenaCalculationFailed", (a) => a.labels.instance === "team-b"); // both failures scraped by now
    const rows = await failedTableRows(prometheus);
    const row = rows.find((r) => r.metric.calculation_execution_id === failedWithoutReason);
    assert.ok(row, `the reasonless failure is missing from ${JSON.stringify(rows.map((r) => r.metric))}`);
    assert.equal(row.metric.instance, "team-a");
    assert.equal(row.metric.workgroup, "wg-a");
    assert.equal(row.metric.description, "nightly export");
    assert.equal(row.metric.reason, undefined, "no reason: an empty cell");
    assert.match(row.metric.stderr_uri ?? "", new RegExp(`^s3://[^/]+/.*${failedWithoutReason}/stderr\\.txt$`));
    assert.match(row.metric.stdout_uri ?? "", /\/stdout\.txt$/);
    // The S3 console link's parts.
    assert.equal(`s3://${row.metric.stderr_bucket ?? ""}/${row.metric.stderr_key ?? ""}`, row.metric.stderr_uri);
    const completed = Number(row.value?.[1]);
    assert.ok(Math.abs(completed - (Date.now() - 60_000)) < 60_000, `completion ${completed} ms is about a minute ago`);
    const withReason = rows.find((r) => r.metric.calculation_execution_id === failedInB);
    assert.equal(withReason?.metric.reason, "ModuleNotFoundError: No module named 'pandas'");
    assert.equal(rows.length, 2, "only the two FAILED calculations");
  });

  it("runs every annotation query, and marks the firing alerts", async () => {
    const results = await annotationResults(prometheus);
    assert.deepEqual([...results.keys()], ["Exporter restarts", "Config reloads", "Firing alerts"]);
    assert.ok((results.get("Firing alerts") ?? 0) > 0, "a firing alert shows as an annotation");
  });
});
