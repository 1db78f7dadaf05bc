import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import type { Calculation } from "../../../src/athena/calculation.js";
import type { CalculationEntry } from "../../../src/calculations/cache.js";
import { CalculationExposition } from "../../../src/calculations/exposition.js";
import { gzipBody, type BodyPart } from "../../../src/exposition/gzip-body.js";
import { bodyBytes } from "../../body-text.js";
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
  return {
    value: { calculation, state: calculation.state, workgroup: "wg" },
    refreshedAt,
    error: undefined,
    failingSince: undefined,
    settled: false,
  };
}

const NONE: ReadonlySet<string> = new Set();
const text = (parts: readonly BodyPart[]): string => bodyBytes(parts).toString("utf8");
const gunzipped = async (parts: readonly BodyPart[]): Promise<string> => gunzipSync(Buffer.concat(await gzipBody(parts))).toString("utf8");

describe("the exposition of unsettled calculations", () => {
  it("moves the duration with the clock while the rest of the text stays as it was rendered", async () => {
    const exposition = new CalculationExposition();
    exposition.show("calc-a", entry(running("calc-a", "10%"), SUBMITTED + 5));
    const first = exposition.parts(SUBMITTED + 10, NONE);
    const second = exposition.parts(SUBMITTED + 70.25, NONE);
    const label = { calculation_execution_id: "calc-a" };
    assert.equal(valueOf(text(first), "athena_calculation_duration_seconds", label), 10);
    assert.equal(valueOf(text(second), "athena_calculation_duration_seconds", label), 70.25);
    assert.equal(valueOf(text(second), "athena_calculation_progress_ratio", label), 0.1);
    // The gzip body says the same as the identity body, scrape after scrape.
    assert.equal(await gunzipped(second), text(second));
  });

  it("renders a calculation again once it is shown with a new cache entry", async () => {
    const exposition = new CalculationExposition();
    exposition.show("calc-a", entry(running("calc-a", "10%"), SUBMITTED + 5));
    await gzipBody(exposition.parts(SUBMITTED + 10, NONE)); // keeps the compressed text, which must not outlive the entry
    exposition.show("calc-a", entry(running("calc-a", "80%"), SUBMITTED + 40));
    const after = exposition.parts(SUBMITTED + 41, NONE);
    const label = { calculation_execution_id: "calc-a" };
    assert.equal(valueOf(text(after), "athena_calculation_progress_ratio", label), 0.8);
    assert.equal(valueOf(text(after), "athena_calculation_last_refresh_timestamp_seconds", label), SUBMITTED + 40);
    assert.equal(await gunzipped(after), text(after));
  });

  it("shows a calculation once when it settles between two scrapes", () => {
    const exposition = new CalculationExposition();
    exposition.show("calc-a", entry(running("calc-a", ""), SUBMITTED + 5));
    exposition.show("calc-b", undefined);
    exposition.parts(SUBMITTED + 10, NONE);
    exposition.settle({ ...running("calc-a", ""), state: "COMPLETED", completedAt: SUBMITTED + 20, dpuExecutionSeconds: 3 }, "wg");
    const body = text(exposition.parts(SUBMITTED + 30, NONE));
    const states = parseExposition(body).filter((s) => s.name === "athena_calculation_state" && s.labels.state === "COMPLETED");
    assert.deepEqual(
      states.map((s) => [s.labels.calculation_execution_id, s.value]),
      [["calc-a", 1]],
    );
    assert.equal(valueOf(body, "athena_calculation_duration_seconds", { calculation_execution_id: "calc-a" }), 20);
    // calc-b has no answer yet: up 0, Pending.
    assert.equal(valueOf(body, "athena_calculation_up", { calculation_execution_id: "calc-b" }), 0);
  });

  it("takes a dropped calculation's text out, settled or not", () => {
    const exposition = new CalculationExposition();
    exposition.show("calc-a", entry(running("calc-a", ""), SUBMITTED + 5));
    exposition.settle({ ...running("calc-b", ""), state: "COMPLETED", completedAt: SUBMITTED + 20, dpuExecutionSeconds: 3 }, "wg");
    exposition.drop("calc-a");
    exposition.drop("calc-b");
    assert.ok(!text(exposition.parts(SUBMITTED + 30, NONE)).includes("calc-"));
  });

  it("leaves the duration out when it is hidden, and brings it back when shown", () => {
    const exposition = new CalculationExposition();
    exposition.show("calc-a", entry(running("calc-a", ""), SUBMITTED));
    const hidden = text(exposition.parts(SUBMITTED + 1, new Set(["athena_calculation_duration_seconds"])));
    assert.ok(!hidden.includes("athena_calculation_duration_seconds"));
    const shown = text(exposition.parts(SUBMITTED + 2, NONE));
    assert.equal(valueOf(shown, "athena_calculation_duration_seconds", { calculation_execution_id: "calc-a" }), 2);
  });
});
