import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { AthenaApi } from "../../../src/athena/client.js";
import type { ApiError } from "../../../src/athena/errors.js";
import type { Calculation } from "../../../src/athena/calculation.js";
import { calculationCache } from "../../../src/calculations/cache.js";
import { ok, type Result } from "../../../src/result.js";

const completed: Calculation = {
  id: "calc-a",
  sessionId: "sess-1",
  description: "",
  workingDirectory: "",
  state: "COMPLETED",
  stateChangeReason: "",
  submittedAt: 1_700_000_000,
  completedAt: 1_700_000_060,
  dpuExecutionSeconds: 12,
  progress: "",
  result: { stdOutS3Uri: "", stdErrorS3Uri: "", resultS3Uri: "", resultType: "" },
};

describe("the calculation cache", () => {
  it("keeps nothing of an answer that lands after the calculation was forgotten", async () => {
    // GetCalculationExecution answers when the test says so: the calculation is forgotten (no longer tracked) meanwhile.
    let answer: (value: Result<Calculation, ApiError>) => void = () => undefined;
    const api = {
      getCalculation: () => new Promise<Result<Calculation, ApiError>>((resolve) => (answer = resolve)),
    } as unknown as AthenaApi;
    const cache = calculationCache(api, () => Promise.resolve(ok("wg")), {
      ttlMs: 30_000,
      maxEntries: 10,
      logger: pino({ level: "silent" }),
      now: () => Date.now(),
    });
    const refresh = cache.refresh(["calc-a"], AbortSignal.timeout(5_000));
    cache.forget("calc-a");
    answer(ok(completed));
    await refresh;
    // Settled text kept for it would be exposed for good, though nothing tracks it any more.
    assert.deepEqual(
      cache.takeChanges().filter((change) => change.kind === "updated"),
      [],
    );
    assert.equal(cache.peek("calc-a"), undefined);
  });
});
