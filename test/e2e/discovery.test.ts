import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { samplesOf, scrapeUntil, startStack, valueOf } from "../helpers.js";

const up = (text: string): string[] => samplesOf(text, "athena_calculation_up").map((s) => s.labels.calculation_execution_id ?? "");

describe("discovery through ListSessions and ListCalculationExecutions", () => {
  it("finds the calculations of every Spark workgroup, and new ones without a config change", async () => {
    const found: string[] = [];
    let session = "";
    const stack = await startStack((sim) => {
      const a1 = sim.state.addSession("spark-a");
      const a2 = sim.state.addSession("spark-a");
      const b = sim.state.addSession("spark-b");
      sim.state.addWorkGroup("sql-only", "Athena engine version 3");
      session = a1.id;
      found.push(sim.state.addCalculation({ sessionId: a1.id, state: "RUNNING" }).id);
      found.push(sim.state.addCalculation({ sessionId: a1.id, state: "COMPLETED", dpuExecutionMillis: 1 }).id);
      found.push(sim.state.addCalculation({ sessionId: a2.id, state: "QUEUED" }).id);
      found.push(sim.state.addCalculation({ sessionId: b.id, state: "FAILED", stateChangeReason: "x", dpuExecutionMillis: 1 }).id);
      return { calculations: [], extraYaml: "discovery: {workgroups: all, interval: 200ms}" };
    });
    try {
      let text = await scrapeUntil(stack, (t) => up(t).length === 4, "four calculations to be discovered");
      assert.deepEqual(up(text).sort(), [...found].sort());
      assert.equal(
        valueOf(text, "athena_calculation_state", { calculation_execution_id: found[3] ?? "", state: "FAILED", workgroup: "spark-b" }),
        1,
      );
      // Each session is fetched for its own metrics, once within the TTL; the listing told each calculation's workgroup.
      assert.equal(stack.simulator.calls("GetSession"), 3);
      assert.equal(stack.simulator.calls("ListSessions", "sql-only"), 0, "a SQL workgroup has no calculations to list");
      assert.equal(valueOf(text, "athena_exporter_calculations_discovered"), 4);

      const added = stack.simulator.state.addCalculation({ sessionId: session, state: "RUNNING" }).id;
      text = await scrapeUntil(stack, (t) => up(t).includes(added), "the new calculation to appear");
      assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: added }), 1);
    } finally {
      await stack.stop();
    }
  });

  it("lists only the configured workgroups", async () => {
    const stack = await startStack((sim) => {
      sim.state.addCalculation({ sessionId: sim.state.addSession("wanted").id, state: "RUNNING" });
      sim.state.addCalculation({ sessionId: sim.state.addSession("other").id, state: "RUNNING" });
      return { calculations: [], extraYaml: "discovery: {workgroups: [wanted], interval: 200ms}" };
    });
    try {
      const text = await scrapeUntil(stack, (t) => up(t).length === 1, "the wanted workgroup's calculation");
      assert.equal(
        samplesOf(text, "athena_calculation_state").every((s) => s.labels.workgroup === "wanted"),
        true,
      );
      assert.equal(stack.simulator.calls("ListWorkGroups"), 0);
      assert.equal(stack.simulator.calls("ListSessions", "other"), 0);
    } finally {
      await stack.stop();
    }
  });

  it("fetches a calculation whose listed state moved on, without waiting for the TTL", async () => {
    let id = "";
    const stack = await startStack((sim) => {
      id = sim.state.addCalculation({ sessionId: sim.state.addSession("wg").id, state: "RUNNING" }).id;
      return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 200ms}\ncache: {ttl: 1h}" };
    });
    try {
      await scrapeUntil(stack, (t) => up(t).includes(id), "the calculation to be discovered");
      stack.simulator.state.setState(id, "COMPLETED");
      const text = await scrapeUntil(
        stack,
        (t) => valueOf(t, "athena_calculation_state", { calculation_execution_id: id, state: "COMPLETED" }) === 1,
        "the completion to show despite a 1h TTL",
      );
      assert.ok((valueOf(text, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: id }) ?? -1) >= 0);
    } finally {
      await stack.stop();
    }
  });

  it("drops a finished calculation's series after the retention while the counters keep counting", async () => {
    let recent = "";
    let old = "";
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      old = sim.state.addCalculation({
        sessionId: session.id,
        state: "FAILED",
        completedAtMs: Date.now() - 3_600_000,
        dpuExecutionMillis: 1,
      }).id;
      // Fails once the exporter watches it, so the counters count it.
      recent = sim.state.addCalculation({
        sessionId: session.id,
        state: "RUNNING",
        dpuExecutionMillis: 1000,
        schedule: [{ atMs: Date.now() + 300, state: "FAILED" }],
      }).id;
      return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 200ms, retention: 1500ms}" };
    });
    try {
      const first = await scrapeUntil(
        stack,
        (t) => valueOf(t, "athena_calculation_state", { calculation_execution_id: recent, state: "FAILED" }) === 1,
        "the recent failure to be discovered",
      );
      assert.ok(!up(first).includes(old), "a calculation finished before the retention is never exported");
      const gone = await scrapeUntil(stack, (t) => !up(t).includes(recent), "the series to be dropped after the retention");
      assert.equal(samplesOf(gone, "athena_calculation_state").length, 0);
      assert.equal(valueOf(gone, "athena_calculations_finished_total", { workgroup: "wg", state: "FAILED" }), 1);
      assert.equal(valueOf(gone, "athena_calculations_dpu_execution_seconds_total", { workgroup: "wg" }), 1);
      assert.equal(valueOf(gone, "athena_exporter_calculations_tracked"), 0, "nothing is watched for the dropped calculation");
      assert.ok(stack.simulator.calls("GetCalculationExecution", recent) <= 2, "fetched while running, then once finished");
      assert.equal(stack.simulator.calls("GetCalculationExecution", old), 0);
    } finally {
      await stack.stop();
    }
  });

  it("when a session leaves the listing of active sessions, lists its calculations once more and fetches its end once, then never again", async () => {
    let session = "";
    const stack = await startStack((sim) => {
      session = sim.state.addSession("wg").id;
      sim.state.addCalculation({ sessionId: session, state: "COMPLETED", dpuExecutionMillis: 1 });
      return { calculations: [], extraYaml: "cache: {ttl: 1ms}\ndiscovery: {workgroups: [wg], interval: 100ms}" };
    });
    try {
      await scrapeUntil(stack, (t) => up(t).length === 1, "the calculation");
      // A calculation that finishes, then the session ends, both between two listings: only the last listing can find it.
      const last = stack.simulator.state.addCalculation({ sessionId: session, state: "FAILED", dpuExecutionMillis: 5 }).id;
      stack.simulator.state.terminateSession(session);
      const text = await scrapeUntil(
        stack,
        (t) => up(t).includes(last) && valueOf(t, "athena_session_state", { session_id: session, state: "TERMINATED" }) === 1,
        "the last calculation and the session's end",
      );
      assert.ok((valueOf(text, "athena_session_end_timestamp_seconds", { session_id: session }) ?? 0) > 0);
      assert.ok((valueOf(text, "athena_session_dpu_execution_seconds", { session_id: session }) ?? -1) >= 0);
      await new Promise((r) => setTimeout(r, 300)); // the run that sees it gone
      await stack.scrape();
      const listings = stack.simulator.calls("ListCalculationExecutions", session);
      const fetches = stack.simulator.calls("GetSession", session);
      await new Promise((r) => setTimeout(r, 500));
      await stack.scrape();
      assert.equal(stack.simulator.calls("ListCalculationExecutions", session), listings, "its calculations are not listed again");
      assert.equal(stack.simulator.calls("GetSession", session), fetches, "an ended session with its DPU total is not fetched again");
      assert.ok(stack.simulator.calls("ListSessions", "wg") >= 5, "the workgroup is still listed");
    } finally {
      await stack.stop();
    }
  });

  it("catches up on sessions that ended before it began, within the lookback, once", async () => {
    let recent = "";
    let old = "";
    let calc = "";
    const stack = await startStack((sim) => {
      recent = sim.state.addSession("wg", { state: "TERMINATED", endedAtMs: Date.now() - 600_000, startedAtMs: Date.now() - 900_000 }).id;
      old = sim.state.addSession("wg", {
        state: "FAILED",
        endedAtMs: Date.now() - 3 * 86_400_000,
        startedAtMs: Date.now() - 4 * 86_400_000,
      }).id;
      calc = sim.state.addCalculation({ sessionId: recent, state: "COMPLETED", dpuExecutionMillis: 3 }).id;
      return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 100ms, lookback: 1d}" };
    });
    try {
      const text = await scrapeUntil(
        stack,
        (t) => up(t).includes(calc) && valueOf(t, "athena_session_state", { session_id: recent, state: "TERMINATED" }) === 1,
        "the ended session and its calculation",
      );
      assert.equal(samplesOf(text, "athena_session_state").filter((s) => s.labels.session_id === old).length, 0, "beyond the lookback");
      await new Promise((r) => setTimeout(r, 400)); // several more runs
      assert.equal(stack.simulator.calls("ListCalculationExecutions", recent), 1);
      assert.equal(stack.simulator.calls("ListCalculationExecutions", old), 0);
    } finally {
      await stack.stop();
    }
  });

  it("follows NextToken through every page", async () => {
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg").id;
      for (let i = 0; i < 250; i++) sim.state.addCalculation({ sessionId: session, state: "COMPLETED", dpuExecutionMillis: 1 });
      return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 1h}" };
    });
    try {
      const text = await scrapeUntil(stack, (t) => up(t).length === 250, "all 250 calculations");
      assert.equal(
        samplesOf(text, "athena_calculation_up").every((s) => s.value === 1),
        true,
      );
      assert.equal(stack.simulator.calls("ListCalculationExecutions"), 3);
    } finally {
      await stack.stop();
    }
  });
});

describe("Athena quotas", () => {
  it("keeps under the request rate it is given, so Athena throttles nothing", async () => {
    const ids: string[] = [];
    const stack = await startStack(
      (sim) => {
        const session = sim.state.addSession("wg").id;
        for (let i = 0; i < 150; i++)
          ids.push(sim.state.addCalculation({ sessionId: session, state: "COMPLETED", dpuExecutionMillis: 1 }).id);
        return { calculations: ids, aws: { requestsPerSecond: 50, maxConcurrency: 16 } };
      },
      { quotaPerSecond: 60 },
    );
    try {
      const started = Date.now();
      const text = await stack.scrape({ "X-Prometheus-Scrape-Timeout-Seconds": "20" });
      const took = (Date.now() - started) / 1000;
      assert.equal(samplesOf(text, "athena_calculation_up").filter((s) => s.value === 1).length, 150);
      assert.equal(stack.simulator.throttled, 0);
      // 151 requests, 50 at once from the full bucket and 50 a second after.
      assert.ok(took >= 1.8, `151 requests at 50/s took only ${took}s`);
    } finally {
      await stack.stop();
    }
  });

  it("counts throttled attempts that the SDK's retries hide", async () => {
    let id = "";
    const stack = await startStack((sim) => {
      id = sim.state.addCalculation({ sessionId: sim.state.addSession("wg").id, state: "COMPLETED", dpuExecutionMillis: 1 }).id;
      sim.injectFault({ kind: "ThrottlingException", operation: "GetCalculationExecution", remaining: 2 });
      return { calculations: [id], aws: { maxAttempts: 3, retryMode: "standard" } };
    });
    try {
      const text = await stack.scrape();
      assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: id }), 1);
      assert.equal(valueOf(text, "athena_exporter_api_throttled_attempts_total", { operation: "GetCalculationExecution" }), 2);
      assert.equal(
        valueOf(text, "athena_exporter_api_request_failures_total", { operation: "GetCalculationExecution", error: "ThrottlingException" }),
        0,
      );
    } finally {
      await stack.stop();
    }
  });
});

describe("discovery within cache.maxEntries", () => {
  it("watches the newest calculations it finds, says how many it left out, logs it once and never refetches in a loop", async () => {
    const now = Date.now();
    const running: string[] = [];
    const recent: string[] = [];
    const old: string[] = [];
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      for (let i = 0; i < 5; i++) running.push(sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
      for (let i = 0; i < 7; i++) {
        recent.push(
          sim.state.addCalculation({
            sessionId: session.id,
            state: "COMPLETED",
            completedAtMs: now - (i + 1) * 60_000,
            dpuExecutionMillis: 1,
          }).id,
        );
      }
      for (let i = 0; i < 18; i++) {
        old.push(
          sim.state.addCalculation({
            sessionId: session.id,
            state: "COMPLETED",
            completedAtMs: now - (30 + i) * 60_000,
            dpuExecutionMillis: 1,
          }).id,
        );
      }
      return { calculations: [], extraYaml: "cache: {ttl: 1ms, maxEntries: 12}\ndiscovery: {workgroups: [wg], interval: 100ms}" };
    });
    try {
      const text = await scrapeUntil(
        stack,
        (t) => up(t).length === 12 && samplesOf(t, "athena_calculation_up").every((s) => s.value === 1),
        "12 calculations to be watched",
      );
      assert.deepEqual(up(text).sort(), [...running, ...recent].sort(), "the unfinished and the most recently finished are watched");
      assert.equal(valueOf(text, "athena_exporter_calculations_left_out"), 18);
      assert.equal(valueOf(text, "athena_exporter_calculations_tracked"), 12);
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 120)); // past the TTL, and a discovery run
        await stack.scrape();
      }
      for (const id of old)
        assert.equal(stack.simulator.calls("GetCalculationExecution", id), 0, "a calculation left out is never fetched");
      for (const id of recent)
        assert.equal(stack.simulator.calls("GetCalculationExecution", id), 1, "a settled calculation is fetched once");
      const warnings = stack.logs().filter((l) => typeof l.msg === "string" && l.msg.includes("more calculations than cache.maxEntries"));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.left_out, 18);
    } finally {
      await stack.stop();
    }
  });
});

describe("a listing that contradicts a settled calculation", () => {
  it("keeps the calculation's values and does not fetch it again, even while Athena fails", async () => {
    let id = "";
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      id = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 4200 }).id;
      return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 100ms}" };
    });
    try {
      await scrapeUntil(
        stack,
        (t) => valueOf(t, "athena_calculation_state", { calculation_execution_id: id, state: "COMPLETED" }) === 1,
        "the calculation to settle",
      );
      // The listing now says FAILED, and GetCalculationExecution fails for it.
      stack.simulator.state.setState(id, "FAILED");
      stack.simulator.injectFault({ kind: "InternalServerException", operation: "GetCalculationExecution", resourceId: id });
      await new Promise((r) => setTimeout(r, 400)); // several discovery runs
      const text = await stack.scrape();
      assert.equal(valueOf(text, "athena_calculation_state", { calculation_execution_id: id, state: "COMPLETED" }), 1);
      assert.equal(valueOf(text, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: id }), 4.2);
      assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: id }), 1);
      assert.equal(stack.simulator.calls("GetCalculationExecution", id), 1);
    } finally {
      await stack.stop();
    }
  });
});

describe("workgroup tags", () => {
  it("exports the configured tags of every discovered workgroup as labels, asking STS for the account once", async () => {
    const stack = await startStack((sim) => {
      sim.state.addSession("analytics-spark");
      sim.state.addSession("etl-spark");
      sim.state.tagWorkGroup("analytics-spark", { team: "churn", "cost-center": "cc-42", owner: "not exported" });
      sim.state.tagWorkGroup("etl-spark", { team: "data-eng" });
      return {
        calculations: [],
        extraYaml: "discovery: {workgroups: [analytics-spark, etl-spark], interval: 100ms, workgroupTags: [team, cost-center]}",
      };
    });
    try {
      const text = await scrapeUntil(stack, (t) => samplesOf(t, "athena_workgroup_tags").length === 2, "the tags of both workgroups");
      const tags = samplesOf(text, "athena_workgroup_tags").map((s) => s.labels);
      assert.deepEqual(
        tags.sort((a, b) => (a.workgroup ?? "").localeCompare(b.workgroup ?? "")),
        [
          { workgroup: "analytics-spark", tag_team: "churn", tag_cost_center: "cc-42" },
          { workgroup: "etl-spark", tag_team: "data-eng", tag_cost_center: "" },
        ],
      );
      await new Promise((r) => setTimeout(r, 300)); // more discovery runs
      assert.equal(stack.simulator.callerIdentityCalls, 1);
      assert.ok(stack.simulator.calls("ListTagsForResource", "analytics-spark") >= 2, "tags are read again on each run");
    } finally {
      await stack.stop();
    }
  });
});
