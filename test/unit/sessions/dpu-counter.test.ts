import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Session } from "../../../src/athena/session.js";
import { SessionDpuCounter } from "../../../src/sessions/dpu-counter.js";
import { valueOf } from "../../helpers.js";

const STARTED = 1_800_000_000;

const session = (id: string, dpuExecutionSeconds: number, startedAt: number, workgroup = "wg"): Session => ({
  id,
  workgroup,
  description: "",
  engineVersion: "PySpark engine version 3",
  state: "BUSY",
  stateChangeReason: "",
  startedAt,
  lastModifiedAt: startedAt,
  endedAt: undefined,
  idleSince: undefined,
  dpuExecutionSeconds,
  coordinatorDpuSize: 1,
  defaultExecutorDpuSize: 1,
  maxConcurrentDpus: 20,
  idleTimeoutSeconds: 1200,
  executionRole: "",
  notebookVersion: "",
});

const total = (text: string, workgroup = "wg"): number | undefined =>
  valueOf(text, "athena_sessions_dpu_execution_seconds_total", { workgroup });

describe("DPU-seconds per workgroup, as sessions accrue them", () => {
  it("counts only what accrues after the exporter started for a session begun before it", () => {
    const counter = new SessionDpuCounter(100);
    counter.observe(session("a", 36_000, STARTED - 3600), STARTED); // ten hours of DPU before the start
    assert.equal(total(counter.expose()), 0);
    counter.observe(session("a", 36_060, STARTED - 3600), STARTED);
    assert.equal(total(counter.expose()), 60);
  });

  it("counts all of a session begun after the exporter started, after a first exposure at 0", () => {
    const counter = new SessionDpuCounter(100);
    counter.observe(session("b", 30, STARTED + 10), STARTED);
    assert.equal(total(counter.expose()), 0, "the workgroup's series is born at 0, so increase() sees the first step");
    assert.equal(total(counter.expose()), 30);
  });

  it("never goes down, nor counts a figure twice, when answers repeat or shrink", () => {
    const counter = new SessionDpuCounter(100);
    counter.observe(session("c", 10, STARTED + 1), STARTED);
    counter.expose();
    for (const dpu of [10, 10, 8, 12, 12]) counter.observe(session("c", dpu, STARTED + 1), STARTED);
    assert.equal(total(counter.expose()), 12);
  });

  it("refuses a DPU figure that is not finite and sane", () => {
    const counter = new SessionDpuCounter(100);
    counter.observe(session("d", 1, STARTED + 1), STARTED);
    counter.expose();
    counter.observe(session("d", Infinity, STARTED + 1), STARTED);
    counter.observe(session("d", 1e308, STARTED + 1), STARTED);
    assert.equal(total(counter.expose()), 1);
  });

  it("counts from first sight a session begun before its workgroup was added by a reload, and all of one begun after", () => {
    const reloadedAt = STARTED + 3600;
    const counter = new SessionDpuCounter(100);
    counter.observe(session("f", 10_800, reloadedAt - 600), reloadedAt);
    counter.observe(session("g", 40, reloadedAt + 5), reloadedAt);
    assert.equal(total(counter.expose()), 0);
    counter.observe(session("f", 10_830, reloadedAt - 600), reloadedAt);
    assert.equal(total(counter.expose()), 70, "30 accrued after the reload, and all 40 of the session begun after it");
  });

  it("shows whole milliseconds, without the float noise of its sums", () => {
    // A session begun before the exporter: counting from 385.2, the deltas sum to 0.18099999999998317 in floating point.
    const counter = new SessionDpuCounter(100);
    counter.observe(session("e", 385.2, STARTED - 60), STARTED);
    counter.expose();
    for (const dpu of [385.281, 385.38, 385.381]) counter.observe(session("e", dpu, STARTED - 60), STARTED);
    assert.equal(total(counter.expose()), 0.181);
  });
});
