import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AthenaState } from "../../simulator/athena-state.js";
import { DemoStream } from "../../simulator/demo-stream.js";
import { DEMO_SPARK_35_WORKGROUP, loadDemoWorkload } from "../../simulator/demo-workload.js";

const START = 1_800_000_000_000;
const MINUTE = 60_000;

interface Seen {
  states: Set<string>;
  failedWithReason: number;
  failedWithoutReason: number;
  progress: Set<string>;
  sessionStates: Set<string>;
  longestRunningMs: number;
  submittedPerHour: Map<number, number>;
  spark35Sessions: Set<string>;
  throttleMinutes: number[];
  maxCalculations: number;
  maxSessions: number;
}

/** Replays the demo on a fake clock: every second for the first hour, every ten seconds after, up to `hours`. */
function replay(hours: number): { state: AthenaState; seen: Seen; now: () => number } {
  let now = START;
  const state = new AthenaState(() => now);
  loadDemoWorkload(state);
  const seen: Seen = {
    states: new Set(),
    failedWithReason: 0,
    failedWithoutReason: 0,
    progress: new Set(),
    sessionStates: new Set(),
    longestRunningMs: 0,
    submittedPerHour: new Map(),
    spark35Sessions: new Set(),
    throttleMinutes: [],
    maxCalculations: 0,
    maxSessions: 0,
  };
  const stream = new DemoStream(state, { throttle: () => seen.throttleMinutes.push(Math.floor((now - START) / MINUTE)) });
  const counted = new Set<string>();
  while (now < START + hours * 60 * MINUTE) {
    now += now < START + 60 * MINUTE ? 1000 : 10_000;
    stream.tick();
    for (const c of state.calculations.values()) {
      seen.states.add(c.state);
      if (c.progress !== "") seen.progress.add(c.progress);
      if (c.runningSinceMs !== undefined) seen.longestRunningMs = Math.max(seen.longestRunningMs, now - c.runningSinceMs);
      if (!counted.has(c.id)) {
        counted.add(c.id);
        const hour = Math.floor((c.submittedAtMs - START) / (60 * MINUTE));
        seen.submittedPerHour.set(hour, (seen.submittedPerHour.get(hour) ?? 0) + 1);
      }
      if (c.state === "FAILED" && !counted.has(`failed ${c.id}`)) {
        counted.add(`failed ${c.id}`);
        if (c.stateChangeReason === "") seen.failedWithoutReason++;
        else seen.failedWithReason++;
      }
    }
    for (const s of state.sessions.values()) {
      seen.sessionStates.add(s.state);
      if (s.workGroup === DEMO_SPARK_35_WORKGROUP) seen.spark35Sessions.add(s.id);
    }
    seen.maxCalculations = Math.max(seen.maxCalculations, state.calculations.size);
    seen.maxSessions = Math.max(seen.maxSessions, state.sessions.size);
  }
  return { state, seen, now: () => now };
}

describe("the demo's never-ending workload", () => {
  const { state, seen, now } = replay(14);

  it("keeps submitting calculations every hour, not only in its first minutes", () => {
    for (let hour = 0; hour < 14; hour++)
      assert.ok((seen.submittedPerHour.get(hour) ?? 0) >= 100, `hour ${hour}: ${seen.submittedPerHour.get(hour)}`);
  });

  it("shows every calculation state, failures with and without a reason, and progress text", () => {
    for (const s of ["CREATING", "CREATED", "QUEUED", "RUNNING", "CANCELING", "CANCELED", "COMPLETED", "FAILED"]) {
      assert.ok(seen.states.has(s), `never ${s}`);
    }
    assert.ok(seen.failedWithReason >= 10, `${seen.failedWithReason} failures with a reason`);
    assert.ok(seen.failedWithoutReason >= 10, `${seen.failedWithoutReason} failures without one`);
    assert.ok(
      [...seen.progress].some((p) => /^Stage \d\/6: \d+% of tasks complete$/.test(p)),
      [...seen.progress].slice(0, 3).join(),
    );
  });

  it("has sessions going busy, idle, ending and failing, and Spark 3.5 sessions coming and going", () => {
    for (const s of ["BUSY", "IDLE", "TERMINATED", "FAILED"]) assert.ok(seen.sessionStates.has(s), `never a ${s} session`);
    assert.ok(seen.spark35Sessions.size >= 20, `${seen.spark35Sessions.size} Spark 3.5 sessions in 14 hours`);
  });

  it("fails enough in etl-spark within ten minutes for the failure-ratio alert (over 25% of at least 4 finishes)", () => {
    // Replayed separately: the long replay above has forgotten nothing of its first hour, but read it fresh for clarity.
    let t = START;
    const fresh = new AthenaState(() => t);
    const stream = new DemoStream(fresh);
    while (t < START + 10 * MINUTE) {
      t += 1000;
      stream.tick();
    }
    const etl = [...fresh.calculations.values()].filter((c) => fresh.sessions.get(c.sessionId)?.workGroup === "etl-spark");
    const finished = etl.filter((c) => c.completedAtMs !== undefined && c.state !== "CANCELED");
    const failed = finished.filter((c) => c.state === "FAILED");
    assert.ok(finished.length >= 4, `${finished.length} finished`);
    assert.ok(failed.length / finished.length > 0.25, `${failed.length} of ${finished.length} failed`);
  });

  it("runs a calculation for over an hour now and then, as AthenaCalculationStuck watches for", () => {
    assert.ok(seen.longestRunningMs > 60 * MINUTE, `longest run ${seen.longestRunningMs / MINUTE} min`);
  });

  it("throttles in storms of a quarter of an hour every two hours", () => {
    assert.deepEqual(
      [...new Set(seen.throttleMinutes.map((m) => Math.floor(m / 120)))],
      [0, 1, 2, 3, 4, 5, 6],
      "a storm in every two-hour window",
    );
    assert.ok(seen.throttleMinutes.every((m) => m % 120 >= 20 && m % 120 < 35));
  });

  it("stays bounded: ended sessions and their calculations are forgotten after seven hours", () => {
    const oldest = Math.min(...[...state.sessions.values()].map((s) => s.endedAtMs ?? Infinity));
    assert.ok(now() - oldest <= 7 * 60 * MINUTE + 10_000, `a session ended ${(now() - oldest) / MINUTE} min ago is still kept`);
    assert.ok(seen.maxCalculations < 4000, `${seen.maxCalculations} calculations held at most`);
    assert.ok(seen.maxSessions < 200, `${seen.maxSessions} sessions held at most`);
  });
});
