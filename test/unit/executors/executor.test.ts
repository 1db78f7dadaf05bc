import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toExecutor } from "../../../src/athena/parse.js";
import type { ExecutorChange } from "../../../src/executors/cache.js";
import type { Executor } from "../../../src/athena/executor.js";
import { ExecutorFailureTally } from "../../../src/executors/failure-tally.js";

const START_MS = 1_700_000_000_000;

const summary = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ExecutorId: "worker-1",
  ExecutorType: "WORKER",
  ExecutorState: "REGISTERED",
  ExecutorSize: 1,
  StartDateTime: START_MS,
  ...over,
});

describe("a ListExecutors summary", () => {
  it("reads type, state, size and times, epoch milliseconds or seconds alike", () => {
    const expected: Executor = {
      id: "worker-1",
      type: "WORKER",
      state: "FAILED",
      size: 2,
      startedAt: START_MS / 1000,
      endedAt: START_MS / 1000 + 60,
    };
    assert.deepEqual(toExecutor(summary({ ExecutorState: "FAILED", ExecutorSize: 2, TerminationDateTime: START_MS + 60_000 })), {
      ok: true,
      value: expected,
    });
    assert.deepEqual(
      toExecutor(
        summary({ ExecutorState: "FAILED", ExecutorSize: 2, StartDateTime: START_MS / 1000, TerminationDateTime: START_MS / 1000 + 60 }),
      ),
      {
        ok: true,
        value: expected,
      },
    );
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["no ID", { ExecutorId: undefined }, /no ExecutorId/],
    ["an unknown type", { ExecutorType: "DRIVER" }, /unknown ExecutorType "DRIVER"/],
    ["an unknown state", { ExecutorState: "ZOMBIE" }, /unknown ExecutorState "ZOMBIE"/],
    ["a negative size", { ExecutorSize: -1 }, /ExecutorSize of executor "worker-1" -1 is not a number from 0/],
    ["a size as text", { ExecutorSize: "4" }, /ExecutorSize of executor "worker-1" "4"/],
    ["no size", { ExecutorSize: undefined }, /no ExecutorSize/],
    ["no start", { StartDateTime: undefined }, /no StartDateTime/],
    ["a start in 1970", { StartDateTime: 5 }, /not a time between 2000 and 2100/],
  ];
  for (const [what, over, reason] of refused) {
    it(`refuses a summary with ${what}, saying why`, () => {
      const parsed: { ok: boolean; error?: string } = toExecutor(summary(over));
      assert.equal(parsed.ok, false);
      assert.match(parsed.error ?? "", reason);
    });
  }
});

describe("counting failed executors", () => {
  const WATCHED_SINCE = START_MS / 1000 + 100;
  const executor = (state: Executor["state"], endedAt?: number, id = "w1"): Executor => ({
    id,
    type: "WORKER",
    state,
    size: 1,
    startedAt: START_MS / 1000,
    endedAt,
  });
  const change = (now: Executor, before?: Executor): ExecutorChange => ({ sessionId: "s", workgroup: "wg", executor: now, before });
  const failed = (tally: ExecutorFailureTally): number => {
    tally.expose(); // the workgroup's first exposition shows 0
    return Number(/athena_executors_failed_total\{workgroup="wg"\} (\d+)/.exec(tally.expose())?.[1]);
  };

  it("counts one seen running that then fails, once even if shown FAILED again", () => {
    const tally = new ExecutorFailureTally(100);
    tally.observe(change(executor("REGISTERED")), WATCHED_SINCE);
    tally.observe(change(executor("FAILED", WATCHED_SINCE + 5), executor("REGISTERED")), WATCHED_SINCE);
    tally.observe(change(executor("FAILED", WATCHED_SINCE + 5)), WATCHED_SINCE);
    assert.equal(failed(tally), 1);
  });

  it("counts one first seen FAILED only when it failed after its session was watched", () => {
    const tally = new ExecutorFailureTally(100);
    tally.observe(change(executor("FAILED", WATCHED_SINCE - 1, "before")), WATCHED_SINCE);
    tally.observe(change(executor("FAILED", WATCHED_SINCE + 1, "after")), WATCHED_SINCE);
    tally.observe(change(executor("TERMINATED", WATCHED_SINCE + 1, "ended")), WATCHED_SINCE);
    assert.equal(failed(tally), 1);
  });
});
