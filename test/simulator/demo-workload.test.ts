import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/config.js";
import { AthenaState } from "../../simulator/athena-state.js";
import { DEMO_CALCULATIONS, loadDemoWorkload } from "../../simulator/demo-workload.js";

describe("demo workload", () => {
  it("watches in config.yaml exactly the calculations the demo serves", async () => {
    const config = await loadConfig("config.yaml");
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
});
