import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { whileEither } from "../../src/either-signal.js";

describe("whileEither", () => {
  it("aborts the run's signal when either source aborts", async () => {
    for (const which of ["a", "b"] as const) {
      const a = new AbortController();
      const b = new AbortController();
      const seen = await whileEither(a.signal, b.signal, (signal) => {
        (which === "a" ? a : b).abort();
        return Promise.resolve(signal.aborted);
      });
      assert.equal(seen, true, `source ${which}`);
    }
  });

  it("starts aborted when a source already is", async () => {
    const stopped = AbortSignal.abort();
    assert.equal(await whileEither(new AbortController().signal, stopped, (signal) => Promise.resolve(signal.aborted)), true);
  });

  it("lets go of both sources once the run settled, failed runs too, so a long-lived source holds nothing", async () => {
    const lifetime = new AbortController();
    const kept: AbortSignal[] = [];
    await whileEither(new AbortController().signal, lifetime.signal, (signal) => {
      kept.push(signal);
      return Promise.resolve();
    });
    await assert.rejects(
      whileEither(new AbortController().signal, lifetime.signal, (signal) => {
        kept.push(signal);
        return Promise.reject(new Error("failed"));
      }),
      /failed/,
    );
    lifetime.abort();
    assert.deepEqual(
      kept.map((s) => s.aborted),
      [false, false],
      "still hooked to the source after the run",
    );
  });
});
