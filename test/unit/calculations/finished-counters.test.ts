import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FinishedCounters } from "../../../src/calculations/finished-counters.js";
import { valueOf } from "../../helpers.js";

describe("finished counters", () => {
  it("exposes a new workgroup at 0 first, so its first FAILED is a visible increase", () => {
    const counters = new FinishedCounters();
    counters.addFinished("etl", "FAILED");
    counters.addDpuSeconds("etl", 12.5);
    const first = counters.expose();
    assert.equal(valueOf(first, "athena_calculations_finished_total", { workgroup: "etl", state: "FAILED" }), 0);
    assert.equal(valueOf(first, "athena_calculations_dpu_execution_seconds_total", { workgroup: "etl" }), 0);
    const second = counters.expose();
    assert.equal(valueOf(second, "athena_calculations_finished_total", { workgroup: "etl", state: "FAILED" }), 1);
    assert.equal(valueOf(second, "athena_calculations_dpu_execution_seconds_total", { workgroup: "etl" }), 12.5);
  });

  it("counts at once in a workgroup that has already been exposed", () => {
    const counters = new FinishedCounters();
    counters.declare("etl");
    counters.expose();
    counters.addFinished("etl", "COMPLETED");
    assert.equal(valueOf(counters.expose(), "athena_calculations_finished_total", { workgroup: "etl", state: "COMPLETED" }), 1);
  });

  it("exposes all three final states of every workgroup it knows", () => {
    const counters = new FinishedCounters();
    counters.declare("a");
    counters.declare("b");
    const text = counters.expose();
    for (const workgroup of ["a", "b"]) {
      for (const state of ["COMPLETED", "FAILED", "CANCELED"]) {
        assert.equal(valueOf(text, "athena_calculations_finished_total", { workgroup, state }), 0);
      }
    }
  });

  it("exposes nothing before any workgroup is known", () => {
    assert.equal(new FinishedCounters().expose(), "");
  });
});
