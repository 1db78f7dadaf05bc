import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startStack, waitFor, type Stack } from "./helpers.js";
import { readAlertRules, readDashboard, substituteVariables } from "./mixin.js";
import { startPrometheus, type RunningPrometheus } from "./prometheus-server.js";

const HOUR = 3_600_000;

/**
 * The shipped rules with every `for:` read in seconds instead of minutes,
 * so alerts that wait minutes in production fire within this test; the
 * promtool unit tests check the real durations.
 */
function compressFor(rules: string): string {
  return rules.replace(/^(\s+for: )(\d+)m$/gm, "$1$2s");
}

describe("with a real Prometheus scraping the exporter", () => {
  let stack: Stack;
  let prometheus: RunningPrometheus;
  const ids = { failing: "", stuck: "", finishing: "", canceled: "", queued: "", etl: "" };

  before(async () => {
    stack = await startStack((sim) => {
      const now = Date.now();
      const analytics = sim.state.addSession("analytics-spark");
      const etl = sim.state.addSession("etl-spark");
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
      ids.canceled = sim.state.addCalculation({ sessionId: etl.id, state: "CANCELED", stateChangeReason: "Canceled by user", dpuExecutionMillis: 500 }).id;
      ids.etl = sim.state.addCalculation({
        sessionId: etl.id,
        state: "RUNNING",
        submittedAtMs: now - 30_000,
        schedule: [{ atMs: now + 5000, state: "COMPLETED" }],
      }).id;
      return { calculations: Object.values(ids), extraYaml: "cache: {ttl: 500ms}" };
    });
    const target = new URL(stack.exporter.url).host;
    prometheus = await startPrometheus(target, compressFor((await readAlertRules()).text));
  });

  after(async () => {
    await prometheus.stop();
    await stack.stop();
  });

  it("fires AthenaCalculationFailed for the failed calculation, with its labels and reason", async () => {
    let failed: Awaited<ReturnType<RunningPrometheus["alerts"]>>[number] | undefined;
    await waitFor(
      async () => {
        failed = (await prometheus.alerts()).find((a) => a.labels.alertname === "AthenaCalculationFailed" && a.state === "firing");
        return failed !== undefined;
      },
      30_000,
      "AthenaCalculationFailed to fire",
    );
    assert.ok(failed);
    assert.equal(failed.labels.calculation_execution_id, ids.failing);
    assert.equal(failed.labels.workgroup, "analytics-spark");
    assert.equal(failed.labels.severity, "warning");
    assert.equal(failed.labels.description, "train churn model");
    assert.match(failed.annotations.description ?? "", /Reason: OutOfMemoryError: Java heap space\./);
    const firing = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaCalculationFailed");
    assert.deepEqual(firing.map((a) => a.labels.calculation_execution_id), [ids.failing], "only the FAILED calculation alerts");
  });

  it("fires AthenaCalculationStuck for the calculation held RUNNING, not for the others", async () => {
    await waitFor(
      async () => (await prometheus.alerts()).some((a) => a.labels.alertname === "AthenaCalculationStuck" && a.state === "firing"),
      30_000,
      "AthenaCalculationStuck to fire",
    );
    const stuck = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaCalculationStuck");
    assert.deepEqual(stuck.map((a) => [a.labels.calculation_execution_id, a.labels.state]), [[ids.stuck, "RUNNING"]]);
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
    const dashboard = await readDashboard();
    // Give rate() windows a few samples after the transitions.
    await new Promise((r) => setTimeout(r, 3000));
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const expr = substituteVariables(target.expr, "1m");
        const answer = await prometheus.query(expr);
        if (answer.result.length === 0) empty.push(`${panel.title} [${target.refId}]: ${expr}`);
      }
    }
    assert.deepEqual(empty, [], "panels whose query returned nothing");
  });

  it("fills the workgroup and session variables", async () => {
    assert.deepEqual((await prometheus.labelValues("workgroup", "athena_calculation_state")).sort(), ["analytics-spark", "etl-spark"]);
    const sessions = await prometheus.labelValues("session_id", 'athena_calculation_state{workgroup=~".*"}');
    assert.equal(sessions.length, 2);
    assert.equal((await prometheus.labelValues("job", "athena_exporter_build_info")).length, 1);
  });
});
