import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { memoryLogger, testConfig, testDeps, waitFor } from "../helpers.js";
import { readAlertRules, readDashboard, substituteVariables } from "../mixin/mixin.js";
import { freePort, startPrometheus, type RunningPrometheus } from "../prometheus-server.js";

const HOUR = 3_600_000;

/** The shipped rules with `for:` in seconds, as the other end-to-end tests read them. */
const compressFor = (rules: string): string => rules.replace(/^(\s+for: )(\d+)m$/gm, "$1$2s");

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("a restart, with a real Prometheus scraping through it", () => {
  const simulator = new AthenaSimulator();
  const now = Date.now();
  // A session alive for three hours: about 10,800 DPU-seconds before the exporter ever starts.
  const session = simulator.state.addSession("analytics-spark", { startedAtMs: now - 3 * HOUR - 120_000 });
  // Twenty calculations that finished three hours before, six of them FAILED.
  const past = Array.from(
    { length: 20 },
    (_, i) =>
      simulator.state.addCalculation({
        sessionId: session.id,
        state: i < 6 ? "FAILED" : "COMPLETED",
        submittedAtMs: now - 3 * HOUR - 60_000,
        completedAtMs: now - 3 * HOUR,
        dpuExecutionMillis: 100_000,
      }).id,
  );
  const late = simulator.state.addCalculation({
    sessionId: session.id,
    state: "RUNNING",
    submittedAtMs: now - 60_000,
    dpuExecutionMillis: 7000,
  }).id;
  let simulatorUrl = "";
  let port = 0;
  let exporter: RunningServer | undefined;
  let prometheus: RunningPrometheus;

  const start = async (): Promise<RunningServer> =>
    startServer(
      testConfig(
        `aws: {region: us-east-1, endpoint: "${simulatorUrl}", maxAttempts: 1}\ncache: {ttl: 200ms}\ncalculations: [${[...past, late].join(", ")}]`,
      ),
      { host: "127.0.0.1", port },
      { deps: testDeps(memoryLogger().logger) },
    );
  const total = async (expr: string): Promise<number> => {
    const r = await prometheus.query(`sum(${expr})`);
    return Number(r.result[0]?.value?.[1] ?? NaN);
  };

  before(async () => {
    simulatorUrl = await simulator.start(0, "127.0.0.1");
    port = await freePort();
    exporter = await start();
    prometheus = await startPrometheus(`127.0.0.1:${port}`, compressFor((await readAlertRules()).text));
    await waitFor(async () => (await total("athena_calculation_up")) === 21, 20_000, "Prometheus to scrape every calculation");
    await sleep(2000);
    // The restart: the process goes, a new one takes its port.
    await exporter.close();
    await sleep(1500);
    exporter = await start();
    await waitFor(async () => (await total('up{job="athena-calculation-exporter"}')) === 1, 20_000, "the new process to be scraped");
    // Longer than the failure-ratio alert's compressed `for:`, so it would fire.
    await sleep(7000);
  });

  after(async () => {
    await prometheus.stop();
    await exporter?.close();
    await simulator.stop();
  });

  it("counts nothing that finished before it, so increase() stays 0", async () => {
    assert.equal(await total("increase(athena_calculations_finished_total[1m])"), 0);
    assert.equal(await total("increase(athena_calculations_dpu_execution_seconds_total[1m])"), 0);
    assert.equal(await total("increase(athena_calculations_finished_duration_seconds_count[1m])"), 0);
    assert.equal(await total("increase(athena_calculations_finished_dpu_execution_seconds_count[1m])"), 0);
    assert.equal(await total('athena_calculation_state{state="FAILED"}'), 6, "the per-calculation series still tell the past");
  });

  it("counts session DPU as it accrues, never the hours before it started", async () => {
    const accrued = await total("increase(athena_sessions_dpu_execution_seconds_total[1m])");
    // One DPU for the minute at most, not the three hours the session ran before.
    assert.ok(accrued > 0 && accrued < 120, `increase over 1m was ${accrued} DPU-seconds`);
    assert.ok((await total("athena_session_dpu_execution_seconds")) > 10_000, "the session's own gauge still tells its whole life");
  });

  it("keeps the failure-ratio alert quiet", async () => {
    const ratio = (await prometheus.alerts()).filter((a) => a.labels.alertname === "AthenaCalculationFailureRatioHigh");
    assert.deepEqual(ratio, []);
  });

  it("keeps every dashboard panel built on the counters at 0", async () => {
    const dashboard = await readDashboard();
    const counterQueries = dashboard.panels
      .flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: substituteVariables(t.expr, "1m") })))
      .filter((q) => /athena_calculations_\w+_(total|bucket|count|sum)\b/.test(q.expr));
    assert.ok(counterQueries.length > 0, "the dashboard has panels on the counters");
    for (const { title, expr } of counterQueries) {
      const values = (await prometheus.query(expr)).result.map((r) => Number(r.value?.[1]));
      // 0, or NaN where a ratio divides 0 by 0: nothing to show either way.
      assert.ok(
        values.every((v) => v === 0 || Number.isNaN(v)),
        `${title}: ${expr} gave ${JSON.stringify(values)}`,
      );
    }
  });

  it("still counts a calculation that finishes after the restart", async () => {
    simulator.state.setState(late, "FAILED", "OutOfMemoryError");
    await waitFor(
      async () => (await total('increase(athena_calculations_finished_total{state="FAILED"}[1m])')) > 0,
      20_000,
      "increase() to see the failure that happened after the restart",
    );
    assert.ok((await total("increase(athena_calculations_dpu_execution_seconds_total[1m])")) > 0);
    assert.ok((await total('increase(athena_calculations_finished_duration_seconds_count{state="FAILED"}[1m])')) > 0);
  });
});
