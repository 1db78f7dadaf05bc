import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Stack, startStack, waitFor } from "../helpers.js";
import { startPrometheus, type RunningPrometheus } from "../prometheus-server.js";
import { rulesAtTestPace } from "./mixin.js";

const HOUR = 3_600_000;

/**
 * The shipped rules with every `for:` in seconds, from the same config with
 * only the waits changed: what this test proves of the expressions holds
 * for alerts.yml. AthenaCalculationFailed waits 5 s, the few scrapes a
 * session's state may lag behind its calculations' here.
 */
function fastRules(): string {
  return rulesAtTestPace({ for: { calculationFailed: "5s" } });
}

type Alert = Awaited<ReturnType<RunningPrometheus["alerts"]>>[number];

describe("alert rules with a real Prometheus scraping the exporter: one cause pages once", () => {
  let stack: Stack;
  let prometheus: RunningPrometheus;
  let dying = "";
  const dyingCalculations: string[] = [];
  let unrefreshable = "";
  let stuck = "";

  before(async () => {
    stack = await startStack((sim) => {
      const healthy = sim.state.addSession("wg");
      const doomed = sim.state.addSession("wg");
      dying = doomed.id;
      for (let i = 0; i < 5; i++) {
        dyingCalculations.push(sim.state.addCalculation({ sessionId: doomed.id, state: "RUNNING", submittedAtMs: Date.now() - 60_000 }).id);
      }
      unrefreshable = sim.state.addCalculation({ sessionId: healthy.id, state: "RUNNING", submittedAtMs: Date.now() - 2 * HOUR }).id;
      stuck = sim.state.addCalculation({ sessionId: healthy.id, state: "RUNNING", submittedAtMs: Date.now() - 2 * HOUR }).id;
      return { calculations: [], extraYaml: "cache: {ttl: 500ms}\ndiscovery: {workgroups: [wg], interval: 1s}" };
    });
    // Known once, then every refresh of it fails: its last known state stays RUNNING, two hours old.
    await waitFor(
      async () => (await stack.scrape()).includes(`athena_calculation_state{calculation_execution_id="${unrefreshable}"`),
      10_000,
      "discovery",
    );
    stack.simulator.injectFault({ kind: "InternalServerException", operation: "GetCalculationExecution", resourceId: unrefreshable });
    prometheus = await startPrometheus(new URL(stack.server.url).host, fastRules());
  });

  after(async () => {
    await prometheus.stop();
    await stack.stop();
  });

  const firing = async (name: string): Promise<Alert[]> =>
    (await prometheus.alerts()).filter((a) => a.labels.alertname === name && a.state === "firing");

  it("pages for a calculation that cannot be refreshed as AthenaExporterRefreshFailing, and keeps its last known state stuck", async () => {
    await waitFor(async () => (await firing("AthenaExporterRefreshFailing")).length > 0, 30_000, "AthenaExporterRefreshFailing");
    await waitFor(async () => (await firing("AthenaCalculationStuck")).length === 2, 30_000, "AthenaCalculationStuck for both");
    const stuckAlerts = await firing("AthenaCalculationStuck");
    const text = new Map(stuckAlerts.map((a) => [a.labels.calculation_execution_id, a.annotations.description ?? ""]));
    assert.match(String(text.get(unrefreshable)), /Its refreshes fail: this is its last known state, fetched .+ ago\.$/);
    assert.doesNotMatch(String(text.get(stuck)), /refreshes fail/, "the healthy stuck calculation's text says nothing of failures");
  });

  it("pages once for a session that dies with its calculations, naming how many failed", async () => {
    stack.simulator.state.setSessionState(dying, "FAILED", "Spark driver lost");
    for (const id of dyingCalculations) stack.simulator.state.setState(id, "FAILED", "Session failed");
    await waitFor(async () => (await firing("AthenaSessionFailed")).length > 0, 30_000, "AthenaSessionFailed");
    const sessions = await firing("AthenaSessionFailed");
    assert.deepEqual(
      sessions.map((a) => a.labels.session_id),
      [dying],
    );
    assert.match(String(sessions[0]?.annotations.description), /one by one: 5\. Reason: Spark driver lost\./);
    // Longer than AthenaCalculationFailed's 5 s wait: none of the five fires.
    const paged = new Set<string>();
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      for (const a of await firing("AthenaCalculationFailed")) paged.add(a.labels.calculation_execution_id ?? "");
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual([...paged], [], "calculations of the failed session paged on their own");
    const failedSeries = await prometheus.query(`athena_calculation_state{session_id="${dying}",state="FAILED"} == 1`);
    assert.equal(failedSeries.result.length, 5, "Prometheus saw the five calculations FAILED");
  });
});
