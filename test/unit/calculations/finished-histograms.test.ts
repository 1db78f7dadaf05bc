import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Precompressed } from "../../../src/exposition/gzip-body.js";
import { FinishedHistograms } from "../../../src/calculations/finished-histograms.js";
import { promtoolCheckMetrics, samplesOf, valueOf } from "../../helpers.js";
import { textBytes } from "../../body-text.js";

const DURATION = "athena_calculations_finished_duration_seconds";
const DPU = "athena_calculations_finished_dpu_execution_seconds";

const textOf = (part: Precompressed): string => textBytes(part.text()).toString("utf8");

describe("finished histograms", () => {
  it("exposes a new workgroup's buckets at 0 first, so its first observation is a visible increase", () => {
    const histograms = new FinishedHistograms();
    histograms.declare("etl");
    histograms.observeDuration("etl", "FAILED", 42);
    const first = textOf(histograms.expose());
    assert.equal(valueOf(first, `${DURATION}_count`, { workgroup: "etl", state: "FAILED" }), 0);
    assert.equal(valueOf(first, `${DURATION}_bucket`, { workgroup: "etl", state: "FAILED", le: "+Inf" }), 0);
    const second = textOf(histograms.expose());
    assert.equal(valueOf(second, `${DURATION}_count`, { workgroup: "etl", state: "FAILED" }), 1);
    assert.equal(valueOf(second, `${DURATION}_sum`, { workgroup: "etl", state: "FAILED" }), 42);
  });

  it("counts each observation in every bucket at or above it, and past the last bound only in +Inf", () => {
    const histograms = new FinishedHistograms();
    histograms.declare("wg");
    histograms.expose();
    for (const seconds of [0.5, 30, 30.001, 90_000]) histograms.observeDuration("wg", "COMPLETED", seconds);
    const text = textOf(histograms.expose());
    const bucket = (le: string) => valueOf(text, `${DURATION}_bucket`, { workgroup: "wg", state: "COMPLETED", le });
    assert.deepEqual(["1", "10", "30", "60", "86400", "+Inf"].map(bucket), [1, 1, 2, 3, 3, 4]);
    assert.equal(valueOf(text, `${DURATION}_sum`, { workgroup: "wg", state: "COMPLETED" }), 90_060.501);
    assert.equal(promtoolCheckMetrics(text), "");
  });

  it("has every final state of each workgroup, and DPU-seconds per workgroup only", () => {
    const histograms = new FinishedHistograms();
    histograms.declare("a");
    histograms.expose();
    histograms.observeDpuSeconds("a", 7200);
    const text = textOf(histograms.expose());
    assert.deepEqual([...new Set(samplesOf(text, `${DURATION}_count`).map((s) => s.labels.state))], ["COMPLETED", "FAILED", "CANCELED"]);
    assert.equal(valueOf(text, `${DPU}_bucket`, { workgroup: "a", le: "3600" }), 0);
    assert.equal(valueOf(text, `${DPU}_bucket`, { workgroup: "a", le: "10800" }), 1);
    assert.equal(valueOf(text, `${DPU}_count`, { workgroup: "a" }), 1);
  });

  it("refuses figures that would poison a histogram for good", () => {
    const histograms = new FinishedHistograms();
    histograms.declare("a");
    histograms.expose();
    histograms.observeDpuSeconds("a", Number.POSITIVE_INFINITY);
    histograms.observeDpuSeconds("a", -1);
    histograms.observeDuration("a", "COMPLETED", Number.NaN);
    const text = textOf(histograms.expose());
    assert.equal(valueOf(text, `${DPU}_count`, { workgroup: "a" }), 0);
    assert.equal(valueOf(text, `${DURATION}_sum`, { workgroup: "a", state: "COMPLETED" }), 0);
  });

  it("renders again only when an observation changed it", () => {
    const histograms = new FinishedHistograms();
    histograms.declare("a");
    const first = histograms.expose();
    assert.equal(histograms.expose(), first, "nothing observed: the same bytes");
    histograms.observeDuration("a", "COMPLETED", 3);
    const next = histograms.expose();
    assert.notEqual(next, first);
    assert.equal(valueOf(textOf(next), `${DURATION}_count`, { workgroup: "a", state: "COMPLETED" }), 1);
    assert.equal(histograms.expose(), next);
  });

  it("exposes nothing before any workgroup is known", () => {
    assert.equal(textOf(new FinishedHistograms().expose()), "");
  });
});
