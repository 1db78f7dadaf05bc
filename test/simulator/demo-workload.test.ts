import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { AthenaState } from "../../simulator/athena-state.js";
import { DEMO_CALCULATIONS, DEMO_SPARK_35_WORKGROUP, loadDemoWorkload } from "../../simulator/demo-workload.js";

describe("demo workload", () => {
  it("watches in config.yaml exactly the calculations the demo serves", async () => {
    const config = await loadConfig("config.yaml", FAMILY_NAMES);
    assert.ok(config.ok);
    assert.deepEqual([...config.value.calculations].sort(), DEMO_CALCULATIONS.map((c) => c.id).sort());
  });

  it("queues, runs, completes, fails and cancels within its first three minutes", () => {
    let now = 1_700_000_000_000;
    const state = new AthenaState(() => now);
    loadDemoWorkload(state);
    const seen = new Set<string>();
    for (let t = 0; t <= 180; t += 1) {
      now = 1_700_000_000_000 + t * 1000;
      for (const calc of DEMO_CALCULATIONS) {
        const answer = state.handle("GetCalculationExecution", { CalculationExecutionId: calc.id }) as { Status: { State: string } };
        seen.add(answer.Status.State);
      }
    }
    for (const s of ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELED"]) assert.ok(seen.has(s), `never ${s}`);
    const stillRunning = DEMO_CALCULATIONS.filter(
      (c) =>
        (state.handle("GetCalculationExecution", { CalculationExecutionId: c.id }) as { Status: { State: string } }).Status.State ===
        "RUNNING",
    );
    assert.ok(stillRunning.length >= 1, "the demo keeps a long-running calculation");
  });

  it("has sessions idle for long, busy, degraded, failed and just terminated, a Spark 3.5 workgroup with two, and tagged workgroups", () => {
    const start = 1_700_000_000_000;
    const state = new AthenaState(() => start);
    loadDemoWorkload(state);
    type Listed = { Sessions: { SessionId: string; Status: { State: string; IdleSinceDateTime?: number; EndDateTime?: number } }[] };
    const list = (WorkGroup: string, StateFilter?: string): Listed["Sessions"] =>
      (state.handle("ListSessions", { WorkGroup, ...(StateFilter === undefined ? {} : { StateFilter }) }) as Listed).Sessions;
    const states = (wg: string, filter?: string): string[] => list(wg, filter).map((s) => s.Status.State);
    const all = ["analytics-spark", "etl-spark"].flatMap((wg) =>
      ["IDLE", "BUSY", "DEGRADED", "FAILED", "TERMINATED"].flatMap((f) => list(wg, f)),
    );
    const idleSince = all.filter((s) => s.Status.State === "IDLE").map((s) => s.Status.IdleSinceDateTime ?? Infinity);
    assert.ok(Math.min(...idleSince) <= start / 1000 - 45 * 60, "one session idle for 45 minutes");
    for (const s of ["BUSY", "DEGRADED", "FAILED", "TERMINATED"])
      assert.ok(
        all.some((x) => x.Status.State === s),
        `no ${s} session`,
      );
    const terminated = all.find((s) => s.Status.State === "TERMINATED");
    assert.ok((terminated?.Status.EndDateTime ?? 0) >= start / 1000 - 5 * 60, "terminated recently");
    assert.deepEqual(states(DEMO_SPARK_35_WORKGROUP).sort(), ["BUSY", "IDLE"]);
    const wg = state.handle("GetWorkGroup", { WorkGroup: DEMO_SPARK_35_WORKGROUP }) as {
      WorkGroup: { Configuration: { EngineVersion: { EffectiveEngineVersion: string } } };
    };
    assert.equal(wg.WorkGroup.Configuration.EngineVersion.EffectiveEngineVersion, "Apache Spark version 3.5");
    for (const name of ["analytics-spark", "etl-spark", DEMO_SPARK_35_WORKGROUP]) {
      const tags = state.handle("ListTagsForResource", { ResourceARN: `arn:aws:athena:us-east-1:123456789012:workgroup/${name}` }) as {
        Tags: { Key: string }[];
      };
      assert.deepEqual(tags.Tags.map((t) => t.Key).sort(), ["cost-center", "team"], name);
    }
  });
});
