import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import type { Calculation } from "../../../src/athena/calculation.js";
import type { CalculationEntry } from "../../../src/calculations/cache.js";
import { CalculationExposition } from "../../../src/calculations/exposition.js";
import { gzipBody, identityBody, type BodyPart } from "../../../src/exposition/gzip-body.js";
import { parseExposition, valueOf } from "../../helpers.js";

const SUBMITTED = 1_700_000_000;

function running(id: string, progress: string): Calculation {
  return {
    id,
    sessionId: "sess-1",
    description: "nightly",
    workingDirectory: "s3://bucket/wd/",
    state: "RUNNING",
    stateChangeReason: "",
    submittedAt: SUBMITTED,
    completedAt: undefined,
    dpuExecutionSeconds: undefined,
    progress,
    result: { stdOutS3Uri: "", stdErrorS3Uri: "", resultS3Uri: "", resultType: "" },
  };
}

function entry(calculation: Calculation, refreshedAt: number): CalculationEntry {
  return { calculation, state: calculation.state, workgroup: "wg", refreshedAt, error: undefined, settled: false };
}

const text = (parts: readonly BodyPart[]): string => Buffer.concat(identityBody(parts)).toString("utf8");
const gunzipped = async (parts: readonly BodyPart[]): Promise<string> => gunzipSync(Buffer.concat(await gzipBody(parts))).toString("utf8");

describe("the exposition of unsettled calculations", () => {
  it("moves the duration with the clock while the rest of the text stays as it was rendered", async () => {
    const exposition = new CalculationExposition();
    const entries = new Map([["calc-a", entry(running("calc-a", "10%"), SUBMITTED + 5)]]);
    const ids = exposition.unsettled(["calc-a"]);
    const first = exposition.render(ids, (id) => entries.get(id), SUBMITTED + 10);
    const second = exposition.render(ids, (id) => entries.get(id), SUBMITTED + 70.25);
    const label = { calculation_execution_id: "calc-a" };
    assert.equal(valueOf(text(first), "athena_calculation_duration_seconds", label), 10);
    assert.equal(valueOf(text(second), "athena_calculation_duration_seconds", label), 70.25);
    assert.equal(valueOf(text(second), "athena_calculation_progress_ratio", label), 0.1);
    // The gzip body says the same as the identity body, scrape after scrape.
    assert.equal(await gunzipped(second), text(second));
  });

  it("renders a calculation again once its cache entry is replaced by a refresh", async () => {
    const exposition = new CalculationExposition();
    const entries = new Map([["calc-a", entry(running("calc-a", "10%"), SUBMITTED + 5)]]);
    const lookup = (id: string): CalculationEntry | undefined => entries.get(id);
    const ids = exposition.unsettled(["calc-a"]);
    const before = exposition.render(ids, lookup, SUBMITTED + 10);
    await gzipBody(before); // keeps the compressed text, which must not outlive the entry
    entries.set("calc-a", entry(running("calc-a", "80%"), SUBMITTED + 40));
    const after = exposition.render(ids, lookup, SUBMITTED + 41);
    const label = { calculation_execution_id: "calc-a" };
    assert.equal(valueOf(text(after), "athena_calculation_progress_ratio", label), 0.8);
    assert.equal(valueOf(text(after), "athena_calculation_last_refresh_timestamp_seconds", label), SUBMITTED + 40);
    assert.equal(await gunzipped(after), text(after));
  });

  it("shows a calculation once when it settles between two scrapes", () => {
    const exposition = new CalculationExposition();
    const entries = new Map([["calc-a", entry(running("calc-a", ""), SUBMITTED + 5)]]);
    const all = ["calc-a", "calc-b"];
    exposition.render(exposition.unsettled(all), (id) => entries.get(id), SUBMITTED + 10);
    exposition.settle({ ...running("calc-a", ""), state: "COMPLETED", completedAt: SUBMITTED + 20, dpuExecutionSeconds: 3 }, "wg");
    entries.delete("calc-a");
    const body = text(exposition.render(exposition.unsettled(all), (id) => entries.get(id), SUBMITTED + 30));
    const states = parseExposition(body).filter((s) => s.name === "athena_calculation_state" && s.labels.state === "COMPLETED");
    assert.deepEqual(
      states.map((s) => [s.labels.calculation_execution_id, s.value]),
      [["calc-a", 1]],
    );
    assert.equal(valueOf(body, "athena_calculation_duration_seconds", { calculation_execution_id: "calc-a" }), 20);
    // calc-b has no answer yet: up 0, Pending.
    assert.equal(valueOf(body, "athena_calculation_up", { calculation_execution_id: "calc-b" }), 0);
  });

  it("leaves the duration out when it is hidden, and brings it back when shown", () => {
    const exposition = new CalculationExposition();
    const entries = new Map([["calc-a", entry(running("calc-a", ""), SUBMITTED)]]);
    const ids = exposition.unsettled(["calc-a"]);
    const hidden = text(exposition.render(ids, (id) => entries.get(id), SUBMITTED + 1, new Set(["athena_calculation_duration_seconds"])));
    assert.ok(!hidden.includes("athena_calculation_duration_seconds"));
    const shown = text(exposition.render(ids, (id) => entries.get(id), SUBMITTED + 2));
    assert.equal(valueOf(shown, "athena_calculation_duration_seconds", { calculation_execution_id: "calc-a" }), 2);
  });
});
