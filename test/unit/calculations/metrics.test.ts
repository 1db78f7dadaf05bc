import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { Calculation } from "../../../src/athena/calculation.js";
import type { RefreshErrorCode } from "../../../src/athena/errors.js";
import { CALCULATION_FAMILIES, parseProgress, renderCalculation, renderSettled } from "../../../src/calculations/metrics.js";
import { renderFamilies } from "../../../src/exposition/text-format.js";
import { parseExposition, promtoolCheckMetrics, samplesOf, valueOf } from "../../helpers.js";

const failed: Calculation = {
  id: "0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13",
  sessionId: "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01",
  description: "train churn model",
  workingDirectory: "s3://bucket/sessions/5b1c3d4e/",
  state: "FAILED",
  stateChangeReason: "Py4JJavaError: java.lang.OutOfMemoryError: Java heap space",
  submittedAt: 1_700_000_000.25,
  completedAt: 1_700_000_042.75,
  dpuExecutionSeconds: 123.456,
  progress: "",
  result: {
    // Where the simulator puts them, so the golden file matches.
    stdOutS3Uri: "s3://bucket/sessions/5b1c3d4e/0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13/stdout.txt",
    stdErrorS3Uri: "s3://bucket/sessions/5b1c3d4e/0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13/stderr.txt",
    resultS3Uri: "s3://bucket/sessions/5b1c3d4e/0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13/result.json",
    resultType: "TEXT",
  },
};

function expose(calc: Calculation, workgroup: string, now: number, error?: RefreshErrorCode): string {
  const time = { nowSeconds: now, refreshedAt: 1_700_000_100.5 };
  const lines = renderCalculation({ id: calc.id, error, known: { calculation: calc, workgroup, time } });
  return renderFamilies(
    CALCULATION_FAMILIES,
    lines.map((l) => (l === "" ? [] : [l])),
  );
}

describe("calculation metrics", () => {
  it("renders a settled FAILED calculation as the exporter serves it end to end", async () => {
    // The same file golden-exposition.test.ts compares the exporter's /metrics with.
    const golden = await readFile(new URL("../../golden/failed-with-reason.prom", import.meta.url), "utf8");
    const text = renderFamilies(
      CALCULATION_FAMILIES,
      renderSettled(failed.id, failed, "analytics-spark").map((l) => (l === "" ? [] : [l])),
    );
    assert.equal(text, golden);
  });

  it("gives the running duration as now minus submission and leaves out completion", () => {
    const running: Calculation = { ...failed, state: "RUNNING", completedAt: undefined, stateChangeReason: "" };
    const samples = parseExposition(expose(running, "wg", 1_700_000_100.25));
    const names = new Set(samples.map((s) => s.name));
    assert.equal(samples.find((s) => s.name === "athena_calculation_duration_seconds")?.value, 100);
    assert.ok(!names.has("athena_calculation_completion_timestamp_seconds"));
    assert.ok(!names.has("athena_calculation_state_reason_info"));
  });

  it("sets exactly one of the eight state series to 1", () => {
    const states = parseExposition(expose(failed, "wg", 0)).filter((s) => s.name === "athena_calculation_state");
    assert.equal(states.length, 8);
    assert.deepEqual(
      states.filter((s) => s.value === 1).map((s) => s.labels.state),
      ["FAILED"],
    );
  });

  it("leaves out the DPU series when Athena gives no statistics", () => {
    const text = expose({ ...failed, dpuExecutionSeconds: undefined }, "wg", 0);
    assert.ok(!text.includes("athena_calculation_dpu_execution_seconds{"));
  });

  it("escapes quotes, backslashes and newlines and cuts long text", () => {
    const nasty: Calculation = {
      ...failed,
      description: 'say "hi"\\ to\nthe ünïcode 🚀 world',
      stateChangeReason: "x".repeat(5000),
    };
    const text = expose(nasty, "wg", 0);
    const info = parseExposition(text).find((s) => s.name === "athena_calculation_info");
    assert.equal(info?.labels.description, 'say "hi"\\ to\nthe ünïcode 🚀 world');
    const reason = parseExposition(text).find((s) => s.name === "athena_calculation_state_reason_info");
    assert.equal(Array.from(reason?.labels.reason ?? "").length, 200);
    assert.equal(promtoolCheckMetrics(text), "");
  });

  it("marks a failed refresh with up 0 and its error code", () => {
    const samples = parseExposition(expose(failed, "wg", 0, "ThrottlingException"));
    assert.equal(samples.find((s) => s.name === "athena_calculation_up")?.value, 0);
    assert.deepEqual(samples.find((s) => s.name === "athena_calculation_refresh_error_info")?.labels, {
      calculation_execution_id: failed.id,
      error: "ThrottlingException",
    });
  });

  it("gives a settled calculation no refresh time, since it is never fetched again", () => {
    const text = renderFamilies(
      CALCULATION_FAMILIES,
      renderSettled(failed.id, failed, "wg").map((l) => (l === "" ? [] : [l])),
    );
    assert.equal(samplesOf(text, "athena_calculation_last_refresh_timestamp_seconds").length, 0);
    assert.equal(samplesOf(text, "athena_calculation_duration_seconds").length, 1);
    assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: failed.id }), 1);
  });

  it("reads a ratio from percentage and fraction progress text, nothing from other text", () => {
    assert.equal(parseProgress("45%"), 0.45);
    assert.equal(parseProgress("Stage 3/4"), 0.75);
    assert.equal(parseProgress("3 of 10 tasks"), 0.3);
    assert.equal(parseProgress("250%"), 1);
    assert.equal(parseProgress("warming up"), undefined);
    assert.equal(parseProgress(""), undefined);
    assert.equal(parseProgress("0/0"), undefined);
  });
});

describe("result links", () => {
  const result = (calc: Calculation) => parseExposition(expose(calc, "wg", 0)).filter((s) => s.name === "athena_calculation_result_info");

  it("are exported for every calculation Athena gives them for, COMPLETED as well as FAILED", () => {
    const [sample] = result(failed);
    assert.ok(sample);
    assert.equal(sample.labels.stderr_uri, failed.result.stdErrorS3Uri);
    assert.equal(sample.labels.stdout_uri, failed.result.stdOutS3Uri);
    assert.equal(sample.labels.result_uri, failed.result.resultS3Uri);
    const [completed] = result({ ...failed, state: "COMPLETED" });
    assert.equal(completed?.labels.result_uri, failed.result.resultS3Uri);
  });

  it("are absent when Athena gives none (a running calculation has no Result)", () => {
    const none = { stdErrorS3Uri: "", stdOutS3Uri: "", resultS3Uri: "", resultType: "" };
    assert.deepEqual(result({ ...failed, state: "RUNNING", completedAt: undefined, result: none }), []);
    const [onlyResult] = result({ ...failed, result: { ...none, resultS3Uri: "s3://bucket/r.json" } });
    assert.deepEqual([onlyResult?.labels.stderr_uri, onlyResult?.labels.result_uri], ["", "s3://bucket/r.json"]);
  });
});
