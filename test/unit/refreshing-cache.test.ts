import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { ApiError } from "../../src/athena/errors.js";
import { RefreshingCache, type ItemSource } from "../../src/refreshing-cache.js";
import { err, ok, type Result } from "../../src/result.js";

interface Job {
  readonly state: "RUNNING" | "DONE";
  readonly log: string;
}

/** A source whose next answers the test queues, one per fetch. */
function queuedSource(): { source: ItemSource<Job>; answers: Result<Job, ApiError>[] } {
  const answers: Result<Job, ApiError>[] = [];
  return {
    answers,
    source: {
      logKey: "job_id",
      noun: "job",
      fetch: () => Promise.resolve(answers.shift() ?? err({ code: "Other", message: "no answer queued" })),
      isSettled: (job) => job.state === "DONE",
      keepSettled: (job) => ({ ...job, log: "" }),
    },
  };
}

describe("the refreshing cache", () => {
  it("reports every change, keeps the last answer through failures, and fetches a settled item never again", async () => {
    let now = 1_000_000;
    const { source, answers } = queuedSource();
    const cache = new RefreshingCache(source, { ttlMs: 1_000, maxEntries: 10, logger: pino({ level: "silent" }), now: () => now });
    const deadline = (): AbortSignal => AbortSignal.timeout(5_000);

    answers.push(ok({ state: "RUNNING", log: "a" }));
    await cache.refresh(["j"], deadline());
    assert.deepEqual(
      cache.takeChanges().map((change) => (change.kind === "updated" ? change.answer : change.kind)),
      [{ state: "RUNNING", log: "a" }],
    );

    now += 2_000;
    answers.push(err({ code: "ThrottlingException", message: "slow down" }));
    await cache.refresh(["j"], deadline());
    const failed = cache.peek("j");
    assert.ok(failed !== undefined);
    assert.equal(failed.error?.code, "ThrottlingException");
    assert.deepEqual(failed.value, { state: "RUNNING", log: "a" }, "the last good answer stays");
    assert.equal(failed.failingSince, now / 1000);
    const [failure] = cache.takeChanges();
    assert.ok(failure?.kind === "updated" && failure.answer === undefined, "a failure is a change without an answer");

    now += 2_000;
    answers.push(ok({ state: "DONE", log: "long log" }));
    await cache.refresh(["j"], deadline());
    const [settled] = cache.takeChanges();
    assert.ok(settled?.kind === "updated" && settled.held.settled);
    assert.deepEqual(settled.answer, { state: "DONE", log: "long log" }, "the owner sees the whole answer");
    assert.deepEqual(cache.peek("j")?.value, { state: "DONE", log: "" }, "the cache keeps what the source keeps of it");

    now += 60_000;
    const { hits, misses } = await cache.refresh(["j"], deadline());
    assert.deepEqual({ hits, misses }, { hits: 1, misses: 0 });
    assert.equal(answers.length, 0);

    cache.forget("j");
    assert.deepEqual(cache.takeChanges(), [{ kind: "dropped", id: "j" }]);
  });
});
