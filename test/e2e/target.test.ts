import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { promtoolCheckMetrics, samplesOf, stackFor, valueOf } from "../helpers.js";

const MISSING = "00000000-0000-4000-8000-000000000404";
const T0 = 1_700_000_000_000;

/** A clock the test moves by hand, for TTL behaviour without sleeping. */
function manualClock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("exporter end to end: real SDK against the simulator", () => {
  it("exports every field of GetCalculationExecution in the right metric and unit", async (t) => {
    let id = "";
    let sessionId = "";
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("analytics-spark");
      sessionId = session.id;
      id = sim.state.addCalculation({
        sessionId,
        description: "train churn model",
        workingDirectory: "s3://team-bucket/notebooks/",
        state: "FAILED",
        stateChangeReason: "OutOfMemoryError: Java heap space",
        submittedAtMs: T0,
        completedAtMs: T0 + 42_500,
        dpuExecutionMillis: 123_456,
        resultType: "TEXT",
      }).id;
      return { calculations: [id] };
    });
    const text = await stack.scrape();
    const labels = { calculation_execution_id: id, session_id: sessionId, workgroup: "analytics-spark" };
    assert.equal(valueOf(text, "athena_calculation_state", { ...labels, state: "FAILED" }), 1);
    assert.equal(samplesOf(text, "athena_calculation_state").filter((s) => s.value === 0).length, 7);
    assert.equal(valueOf(text, "athena_calculation_dpu_execution_seconds", labels), 123.456);
    assert.equal(valueOf(text, "athena_calculation_duration_seconds", labels), 42.5);
    assert.equal(valueOf(text, "athena_calculation_submission_timestamp_seconds", labels), T0 / 1000);
    assert.equal(valueOf(text, "athena_calculation_completion_timestamp_seconds", labels), T0 / 1000 + 42.5);
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: id }), 1);
    const [info] = samplesOf(text, "athena_calculation_info");
    assert.ok(info);
    assert.equal(info.labels.description, "train churn model");
    assert.equal(info.labels.working_directory, "s3://team-bucket/notebooks/");
    assert.equal(info.labels.result_type, "TEXT");
    assert.equal(
      valueOf(text, "athena_calculation_state_reason_info", { ...labels, state: "FAILED", reason: "OutOfMemoryError: Java heap space" }),
      1,
    );
    // The workgroup's counters exist from its first sight, at 0; a
    // calculation that finished before the exporter started is not a
    // finish it saw happen, so they stay there.
    assert.equal(valueOf(text, "athena_calculations_finished_total", { workgroup: "analytics-spark", state: "FAILED" }), 0);
    const next = await stack.scrape();
    assert.equal(valueOf(next, "athena_calculations_finished_total", { workgroup: "analytics-spark", state: "FAILED" }), 0);
    assert.equal(valueOf(next, "athena_calculations_dpu_execution_seconds_total", { workgroup: "analytics-spark" }), 0);
  });

  it("tells who a session belongs to: its description, execution role and notebook version, from GetSession", async (t) => {
    let sessionId = "";
    const role = "arn:aws:iam::123456789012:role/service-role/AthenaSpark-churn-team";
    const stack = await stackFor(t, (sim) => {
      sessionId = sim.state.addSession("analytics-spark", { description: "churn notebook", executionRole: role }).id;
      return { calculations: [sim.state.addCalculation({ sessionId, state: "RUNNING" }).id] };
    });
    await stack.scrape(); // a session is learnt from its calculation's first refresh
    const [info] = samplesOf(await stack.scrape(), "athena_session_info");
    assert.deepEqual(info?.labels, {
      session_id: sessionId,
      workgroup: "analytics-spark",
      engine_version: "PySpark engine version 3",
      description: "churn notebook",
      execution_role: role,
      notebook_version: "Athena notebook version 1",
    });
  });

  it("never fetches a finished calculation again, and asks for a session once for all its calculations", async (t) => {
    const ids: string[] = [];
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg");
      for (const state of ["COMPLETED", "FAILED", "CANCELED"] as const) {
        ids.push(sim.state.addCalculation({ sessionId: session.id, state, dpuExecutionMillis: 1000 }).id);
      }
      return { calculations: ids, extraYaml: "cache: {ttl: 1ms}" };
    });
    await stack.scrape();
    assert.equal(stack.simulator.calls("GetCalculationExecution"), 3);
    assert.equal(stack.simulator.calls("GetSession"), 1, "one GetSession gives the workgroup of the three and the session's own metrics");
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 5)); // well past the 1ms TTL
      const text = await stack.scrape();
      assert.equal(samplesOf(text, "athena_calculation_up").length, 3);
    }
    assert.equal(stack.simulator.calls("GetCalculationExecution"), 3, "finished calculations were fetched again");
    // The active session is refreshed once per scrape past its TTL, for its own metrics; never once per calculation.
    assert.equal(stack.simulator.calls("GetSession"), 6);
  });

  it("fetches an unfinished calculation again only when its entry would be older than cache.ttl by the next scrape", async (t) => {
    const clock = manualClock();
    let id = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        id = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0 }).id;
        return { calculations: [id], extraYaml: "cache: {ttl: 25s}" };
      },
      { now: clock.now },
    );
    await stack.scrape();
    assert.equal(stack.simulator.calls("GetCalculationExecution", id), 1);
    clock.advance(10_000);
    stack.simulator.state.setState(id, "COMPLETED");
    // Scrapes 10 s apart: 15 s of its TTL left outlast the next scrape.
    const cached = await stack.scrape();
    assert.equal(stack.simulator.calls("GetCalculationExecution", id), 1);
    assert.equal(valueOf(cached, "athena_calculation_state", { calculation_execution_id: id, state: "RUNNING" }), 1);
    // The duration of a running calculation follows the clock, even from the cache.
    assert.equal(valueOf(cached, "athena_calculation_duration_seconds", { calculation_execution_id: id }), 10);
    // 5 s left, and the next scrape comes in 10 s: it would be stale by then, so it is fetched now.
    clock.advance(10_000);
    const fresh = await stack.scrape();
    assert.equal(stack.simulator.calls("GetCalculationExecution", id), 2);
    assert.equal(valueOf(fresh, "athena_calculation_state", { calculation_execution_id: id, state: "COMPLETED" }), 1);
  });

  it("keeps fetching a finished calculation until Athena gives its statistics", async (t) => {
    const clock = manualClock();
    let id = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        id = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", statistics: false, dpuExecutionMillis: 5000 }).id;
        return { calculations: [id], extraYaml: "cache: {ttl: 10s}" };
      },
      { now: clock.now },
    );
    const first = await stack.scrape();
    assert.equal(valueOf(first, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: id }), undefined);
    clock.advance(11_000);
    const calc = stack.simulator.state.calculations.get(id);
    assert.ok(calc);
    calc.statistics = true;
    const second = await stack.scrape();
    assert.equal(valueOf(second, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: id }), 5);
    clock.advance(60_000);
    await stack.scrape();
    assert.equal(stack.simulator.calls("GetCalculationExecution", id), 2);
  });

  it("shares one request per calculation between concurrent scrapes", async (t) => {
    const ids: string[] = [];
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        for (let i = 0; i < 5; i++) ids.push(sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
        return { calculations: ids };
      },
      { latencyMs: [150, 150] },
    );
    const [a, b, c] = await Promise.all([stack.scrape(), stack.scrape(), stack.scrape()]);
    assert.equal(stack.simulator.calls("GetCalculationExecution"), 5);
    assert.equal(stack.simulator.calls("GetSession"), 1);
    for (const text of [a, b, c]) assert.equal(samplesOf(text, "athena_calculation_up").filter((s) => s.value === 1).length, 5);
  });

  it("counts a FAILED calculation once however many scrapes race", async (t) => {
    const clock = manualClock();
    let id = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        id = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", dpuExecutionMillis: 2000 }).id;
        return { calculations: [id] };
      },
      { latencyMs: [50, 50], now: clock.now },
    );
    await stack.scrape();
    stack.simulator.state.setState(id, "FAILED");
    clock.advance(31_000); // past the default cache.ttl of 30s
    await Promise.all(Array.from({ length: 8 }, () => stack.scrape()));
    assert.equal(stack.simulator.calls("GetCalculationExecution", id), 2, "the racing scrapes shared one request");
    const texts = await Promise.all(Array.from({ length: 4 }, () => stack.scrape()));
    for (const text of texts) {
      assert.equal(valueOf(text, "athena_calculations_finished_total", { workgroup: "wg", state: "FAILED" }), 1);
      assert.equal(valueOf(text, "athena_calculations_dpu_execution_seconds_total", { workgroup: "wg" }), 2);
    }
  });

  it("marks a missing or refused ID down with its reason while the others still export", async (t) => {
    const clock = manualClock();
    let good = "";
    let refused = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        good = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
        refused = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
        sim.injectFault({ kind: "InvalidRequestException", operation: "GetCalculationExecution", resourceId: refused });
        return { calculations: [good, MISSING, refused], extraYaml: "cache: {ttl: 5s}" };
      },
      { now: clock.now },
    );
    let text = "";
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.server.url}/metrics`);
      assert.equal(res.status, 200);
      text = await res.text();
      clock.advance(6_000);
    }
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: good }), 1);
    assert.equal(valueOf(text, "athena_calculation_state", { calculation_execution_id: good, state: "RUNNING" }), 1);
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: MISSING }), 0);
    assert.equal(
      valueOf(text, "athena_calculation_refresh_error_info", { calculation_execution_id: MISSING, error: "ResourceNotFoundException" }),
      1,
    );
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: refused }), 0);
    assert.equal(
      valueOf(text, "athena_calculation_refresh_error_info", { calculation_execution_id: refused, error: "InvalidRequestException" }),
      1,
    );
    assert.equal(samplesOf(text, "athena_calculation_state").filter((s) => s.labels.calculation_execution_id === MISSING).length, 0);
    assert.equal(
      valueOf(text, "athena_exporter_api_request_failures_total", {
        operation: "GetCalculationExecution",
        error: "ResourceNotFoundException",
      }),
      3,
    );
    // Three failed refreshes of each, one log line each: logged per change, not per scrape.
    const failures = stack.logs().filter((l) => l.msg === "calculation refresh failed");
    assert.deepEqual(failures.map((l) => l.calculation_execution_id).sort(), [MISSING, refused].sort());
  });

  it("keeps the last known values through a failing refresh and recovers when the fault clears", async (t) => {
    const clock = manualClock();
    let id = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        id = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0, dpuExecutionMillis: 7000 }).id;
        return { calculations: [id], extraYaml: "cache: {ttl: 5s}" };
      },
      { now: clock.now },
    );
    await stack.scrape();
    stack.simulator.injectFault({ kind: "InternalServerException", resourceId: id });
    clock.advance(6_000);
    const down = await stack.scrape();
    assert.equal(valueOf(down, "athena_calculation_up", { calculation_execution_id: id }), 0);
    assert.equal(
      valueOf(down, "athena_calculation_refresh_error_info", { calculation_execution_id: id, error: "InternalServerException" }),
      1,
    );
    assert.equal(valueOf(down, "athena_calculation_state", { calculation_execution_id: id, state: "RUNNING" }), 1);
    assert.equal(valueOf(down, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: id }), 7);
    stack.simulator.faults.clear();
    clock.advance(6_000);
    const up = await stack.scrape();
    assert.equal(valueOf(up, "athena_calculation_up", { calculation_execution_id: id }), 1);
    assert.equal(samplesOf(up, "athena_calculation_refresh_error_info").length, 0);
    assert.ok(stack.logs().some((l) => l.msg === "calculation refresh recovered" && l.calculation_execution_id === id));
  });

  it("answers within the scrape timeout Prometheus sends, with what it knows", async (t) => {
    let slow = "";
    let quick = "";
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg");
      quick = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1 }).id;
      slow = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1 }).id;
      sim.injectFault({ kind: "delay", delayMs: 1500, resourceId: slow, remaining: 1 });
      return { calculations: [quick, slow] };
    });
    const started = Date.now();
    const text = await stack.scrape({ "X-Prometheus-Scrape-Timeout-Seconds": "1" });
    const took = Date.now() - started;
    assert.ok(took < 1200, `scrape took ${took} ms with a 1 s timeout`);
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: quick }), 1);
    // Not yet answered: down, and saying why, rather than absent.
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: slow }), 0);
    assert.equal(valueOf(text, "athena_calculation_refresh_error_info", { calculation_execution_id: slow, error: "Pending" }), 1);
    assert.equal(samplesOf(text, "athena_calculation_state").filter((s) => s.labels.calculation_execution_id === slow).length, 0);
    await new Promise((r) => setTimeout(r, 1200));
    const later = await stack.scrape();
    assert.equal(valueOf(later, "athena_calculation_up", { calculation_execution_id: slow }), 1);
    assert.equal(stack.simulator.calls("GetCalculationExecution", slow), 1, "the slow answer landed in the cache");
  });

  it("counts API requests, failures and cache hits in its self-metrics", async (t) => {
    const clock = manualClock();
    let id = "";
    const stack = await stackFor(
      t,
      (sim) => {
        const session = sim.state.addSession("wg");
        id = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1 }).id;
        return { calculations: [id, MISSING], extraYaml: "cache: {ttl: 5s}" };
      },
      { now: clock.now },
    );
    await stack.scrape();
    clock.advance(6_000);
    const text = await stack.scrape();
    assert.equal(valueOf(text, "athena_exporter_api_requests_total", { operation: "GetCalculationExecution" }), 3);
    // The session, once and again past its TTL, like the calculation.
    assert.equal(valueOf(text, "athena_exporter_api_requests_total", { operation: "GetSession" }), 2);
    assert.equal(
      valueOf(text, "athena_exporter_api_request_failures_total", {
        operation: "GetCalculationExecution",
        error: "ResourceNotFoundException",
      }),
      2,
    );
    assert.equal(
      valueOf(text, "athena_exporter_api_request_failures_total", { operation: "GetCalculationExecution", error: "ThrottlingException" }),
      0,
    );
    assert.equal(valueOf(text, "athena_exporter_cache_hits_total"), 1);
    assert.equal(valueOf(text, "athena_exporter_cache_misses_total"), 4, "three calculations, and the session past its TTL");
    assert.equal(valueOf(text, "athena_exporter_api_request_duration_seconds_count", { operation: "GetCalculationExecution" }), 3);
    assert.equal(valueOf(text, "athena_exporter_calculations_tracked"), 2);
    assert.equal(samplesOf(text, "athena_exporter_build_info")[0]?.labels.nodejs_version, process.version);
    assert.ok((valueOf(text, "process_resident_memory_bytes") ?? 0) > 0);
  });

  it("serves exposition that promtool check metrics accepts, hostile text included", async (t) => {
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg-ünïcode");
      const ids = [
        sim.state.addCalculation({
          sessionId: session.id,
          state: "FAILED",
          description: 'quote " backslash \\ newline \n emoji 🚀',
          stateChangeReason: 'line1\nline2 "quoted" \\path',
          dpuExecutionMillis: 10,
        }).id,
        sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", progress: "Stage 2/4" }).id,
      ];
      return { calculations: [...ids, MISSING] };
    });
    await stack.scrape();
    const text = await stack.scrape();
    assert.equal(promtoolCheckMetrics(text), "");
    assert.equal(samplesOf(text, "athena_calculation_progress_ratio")[0]?.value, 0.5);
    const res = await fetch(`${stack.server.url}/metrics`);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  });
});
