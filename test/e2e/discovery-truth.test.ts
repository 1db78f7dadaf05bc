import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { loadConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { startServer } from "../../src/http/start-server.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, samplesOf, scrapeUntil, stackFor, testDeps, valueOf, type Stack } from "../helpers.js";

const HOUR_MS = 3_600_000;
const ups = (text: string): string[] => samplesOf(text, "athena_calculation_up").map((s) => s.labels.calculation_execution_id ?? "");
const finished = (text: string, workgroup: string, state: string): number =>
  valueOf(text, "athena_calculations_finished_total", { workgroup, state }) ?? 0;
const observed = (text: string, workgroup: string, state: string): number =>
  valueOf(text, "athena_calculations_finished_duration_seconds_count", { workgroup, state }) ?? 0;
const sessionDpu = (text: string, workgroup: string): number =>
  valueOf(text, "athena_sessions_dpu_execution_seconds_total", { workgroup }) ?? 0;

/** Waits for `runs` more discovery runs to end, counted by the exporter's own gauge of when the last one succeeded or failed. */
async function discoveryRuns(stack: Stack, runs: number): Promise<void> {
  const ended = (text: string): number =>
    (valueOf(text, "athena_exporter_discovery_failures_total") ?? 0) * 1e6 +
    (valueOf(text, "athena_exporter_discovery_last_success_timestamp_seconds") ?? 0);
  let last = ended(await stack.scrape());
  for (let i = 0; i < runs; i++) {
    await scrapeUntil(stack, (t) => ended(t) !== last, "a discovery run to end");
    last = ended(await stack.scrape());
  }
}

describe("discovery that misses nothing and counts once", () => {
  it("sees a session that started, ran one calculation and ended between two runs, and counts its finish and DPU", async (t) => {
    const stack = await stackFor(t, (sim) => {
      sim.state.addSession("batch", { state: "IDLE" });
      return { calculations: [], extraYaml: "discovery: {workgroups: [batch], interval: 300ms}" };
    });
    await discoveryRuns(stack, 1);
    // An Airflow-style batch session: start, one calculation that fails, terminate, all before the next run.
    const session = stack.simulator.state.addSession("batch", { state: "BUSY", dpuExecutionMillis: 120_000 });
    const calc = stack.simulator.state.addCalculation({
      sessionId: session.id,
      state: "FAILED",
      stateChangeReason: "boom",
      dpuExecutionMillis: 60_000,
    }).id;
    stack.simulator.state.terminateSession(session.id);

    const text = await scrapeUntil(
      stack,
      (t) => ups(t).includes(calc) && finished(t, "batch", "FAILED") === 1 && sessionDpu(t, "batch") === 120,
      "the short session's calculation, finish and DPU",
    );
    assert.equal(valueOf(text, "athena_calculation_state", { calculation_execution_id: calc, state: "FAILED" }), 1);
    assert.equal(valueOf(text, "athena_session_state", { session_id: session.id, state: "TERMINATED" }), 1);
    assert.equal(valueOf(text, "athena_calculations_dpu_execution_seconds_total", { workgroup: "batch" }), 60);
  });

  it("keeps listing the calculations of a session that one ListSessions answer left out, and ends it only on GetSession's word", async (t) => {
    let session = "";
    const stack = await stackFor(t, (sim) => {
      session = sim.state.addSession("notebooks", { state: "BUSY" }).id;
      sim.state.addCalculation({ sessionId: session, state: "RUNNING" });
      return { calculations: [], extraYaml: "discovery: {workgroups: [notebooks], interval: 300ms}" };
    });
    await scrapeUntil(stack, (t) => ups(t).length === 1, "the first calculation");
    const getSessions = stack.simulator.calls("GetSession", session);
    // One answer of the active sessions' listing without it, as an eventually consistent listing may give.
    stack.simulator.faults.add({
      kind: "raw-answer",
      operation: "ListSessions",
      resourceId: "notebooks",
      remaining: 1,
      body: { Sessions: [] },
    });
    await discoveryRuns(stack, 2);
    assert.ok(stack.simulator.calls("GetSession", session) > getSessions, "the session missing from the listing was asked about");
    const added = stack.simulator.state.addCalculation({ sessionId: session, state: "RUNNING" }).id;
    const text = await scrapeUntil(stack, (t) => ups(t).includes(added), "the calculation added after the missing answer");
    assert.equal(valueOf(text, "athena_session_state", { session_id: session, state: "BUSY" }), 1);
  });

  it("ends a listing whose NextToken loops as a failure, logged once, and retires nothing it found before", async (t) => {
    let session = "";
    const stack = await stackFor(t, (sim) => {
      session = sim.state.addSession("loops", { state: "BUSY" }).id;
      sim.state.addCalculation({ sessionId: session, state: "RUNNING" });
      return { calculations: [], extraYaml: "discovery: {workgroups: [loops], interval: 200ms}" };
    });
    await scrapeUntil(stack, (t) => ups(t).length === 1, "the first calculation");
    // "MA" is the simulator's token for the first page: every page leads back to the start.
    stack.simulator.faults.add({ kind: "override-fields", operation: "ListSessions", resourceId: "loops", fields: { NextToken: "MA" } });
    stack.simulator.faults.add({ kind: "override-fields", operation: "ListCalculationExecutions", fields: { NextToken: "MA" } });
    const before = stack.simulator.calls("ListSessions", "loops");
    await discoveryRuns(stack, 3);
    const text = await stack.scrape();
    const calls = stack.simulator.calls("ListSessions", "loops") - before;
    assert.ok(calls <= 3 * 2 + 2, `a looping listing stops at the repeated token, not at a page cap (${calls} calls in 3 runs)`);
    assert.ok((valueOf(text, "athena_exporter_discovery_failures_total") ?? 0) >= 3);
    assert.deepEqual(ups(text).length, 1, "the calculation found before stays");
    assert.equal(valueOf(text, "athena_session_state", { session_id: session, state: "BUSY" }), 1);
    assert.equal(valueOf(text, "athena_session_up", { session_id: session }), 1);
    const warnings = stack.logs().filter((l) => typeof l.reason === "string" && l.reason.includes("same NextToken twice"));
    assert.equal(warnings.length, 1, "logged once, not once per run");
    assert.match(String(warnings[0]?.call), /^ListSessions loops/);
  });

  it("after the first run, lists a session of 1,000 finished calculations in one call a run, and pages ended sessions only to the lookback", async (t) => {
    let session = "";
    const stack = await stackFor(t, (sim) => {
      const now = Date.now();
      session = sim.state.addSession("history", { state: "IDLE", startedAtMs: now - 20 * HOUR_MS }).id;
      for (let i = 0; i < 1000; i++) {
        sim.state.addCalculation({
          sessionId: session,
          state: "COMPLETED",
          submittedAtMs: now - 19 * HOUR_MS + i * 60_000,
          completedAtMs: now - 19 * HOUR_MS + i * 60_000 + 30_000,
          dpuExecutionMillis: 1000,
        });
      }
      // 300 sessions that ended days ago: three pages that the first run need not read.
      for (let i = 0; i < 300; i++) {
        sim.state.addSession("history", {
          state: "TERMINATED",
          startedAtMs: now - 72 * HOUR_MS - i * 60_000,
          endedAtMs: now - 71 * HOUR_MS,
        });
      }
      return { calculations: [], extraYaml: "discovery: {workgroups: [history], interval: 200ms, retention: 1h}" };
    });
    await discoveryRuns(stack, 1);
    const firstRun = stack.simulator.calls("ListSessions", "history");
    assert.equal(firstRun, 4, "active, DEGRADED, and one page each of TERMINATED and FAILED");
    const listed = stack.simulator.calls("ListCalculationExecutions", session);
    assert.equal(listed, 10, "the first run reads the whole history once");
    await discoveryRuns(stack, 5);
    const perRun = (stack.simulator.calls("ListCalculationExecutions", session) - listed) / 5;
    assert.ok(perRun <= 1.2, `about one call a run after the first, got ${perRun}`);
    const added = stack.simulator.state.addCalculation({ sessionId: session, state: "RUNNING" }).id;
    await scrapeUntil(stack, (t) => ups(t).includes(added), "a new calculation of the long session");
  });
});

describe("counting starts when watching starts", () => {
  it("counts nothing of the past of a workgroup or an ID that a reload adds, and what happens after", async (t: TestContext) => {
    const simulator = new AthenaSimulator();
    simulator.state.addSession("first", { state: "IDLE" });
    const endpoint = await simulator.start(0, "127.0.0.1");
    const dir = await mkdtemp(join(tmpdir(), "ace-since-"));
    const file = join(dir, "config.yaml");
    const yaml = (workgroups: string, ids: string[]): string =>
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
      `calculations: [${ids.join(", ")}]\ndiscovery: {workgroups: [${workgroups}], interval: 200ms}\n`;
    await writeFile(file, yaml("first", []));
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok);
    const running = await startServer(
      loaded.value,
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memoryLogger().logger), configSource: fileSource(file) },
    );
    t.after(async () => {
      await running.close();
      await simulator.stop();
      await rm(dir, { recursive: true });
    });
    const stack = { scrape: async () => (await fetch(`${running.url}/metrics`)).text() };
    await new Promise((resolve) => setTimeout(resolve, 50));

    // After the exporter started, before the reload: a session that used 10,800 DPU-seconds with four finished
    // calculations in a workgroup not yet discovered, and a calculation not yet listed that failed.
    const old = simulator.state.addSession("added", { state: "IDLE", dpuExecutionMillis: 10_800_000 });
    for (let i = 0; i < 4; i++) simulator.state.addCalculation({ sessionId: old.id, state: "COMPLETED", dpuExecutionMillis: 1000 });
    const elsewhere = simulator.state.addSession("listed-wg", { state: "IDLE" });
    const failedBefore = simulator.state.addCalculation({ sessionId: elsewhere.id, state: "FAILED", dpuExecutionMillis: 1000 }).id;
    await new Promise((resolve) => setTimeout(resolve, 50));

    await writeFile(file, yaml("first, added", [failedBefore]));
    assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
    let text = await scrapeUntil(
      stack,
      (t) => ups(t).length === 5 && valueOf(t, "athena_session_up", { session_id: old.id }) === 1,
      "the added workgroup's calculations and the added ID",
    );
    // Two more scrapes: a counter born at 0 shows what it counted on the next.
    await stack.scrape();
    text = await stack.scrape();
    for (const state of ["COMPLETED", "FAILED", "CANCELED"]) {
      assert.equal(finished(text, "added", state), 0, `no ${state} finish of before the reload`);
      assert.equal(finished(text, "listed-wg", state), 0, `no ${state} finish of the ID added, which failed before`);
      for (const workgroup of ["added", "listed-wg"]) {
        assert.equal(observed(text, workgroup, state), 0, `no ${state} duration of before the reload in ${workgroup}`);
      }
    }
    assert.equal(sessionDpu(text, "added"), 0, "the session's 10,800 DPU-seconds before the reload are not counted");

    const fresh = simulator.state.addCalculation({ sessionId: old.id, state: "RUNNING" }).id;
    await scrapeUntil(stack, (t) => ups(t).includes(fresh), "the new calculation");
    simulator.state.setState(fresh, "COMPLETED");
    text = await scrapeUntil(stack, (t) => finished(t, "added", "COMPLETED") === 1, "the finish after the reload to count");
    assert.equal(observed(text, "added", "COMPLETED"), 1, "its duration observed once, with the finish");
  });
});
