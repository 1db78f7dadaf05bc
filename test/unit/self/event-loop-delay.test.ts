import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { DelayWindows, EVENT_LOOP_FAMILY_NAMES, registerEventLoopDelay } from "../../../src/self/event-loop-delay.js";
import { registryText } from "../../../src/exposition/registry-text.js";
import { valueOf } from "../../helpers.js";

const close = (actual: number, expected: number, relative: number, what: string): void =>
  assert.ok(
    Math.abs(actual - expected) <= Math.abs(expected) * relative,
    `${what}: ${actual} is not within ${relative * 100}% of ${expected}`,
  );

describe("DelayWindows", () => {
  it("gives a window's min, max, mean and standard deviation exactly, and its percentiles to three figures", () => {
    const windows = new DelayWindows();
    // Delays around 10 ms with a long tail, as a busy loop gives.
    const samples = Array.from({ length: 1000 }, (_, i) => 10_000_000 + (i % 50) * 20_000 + (i % 97 === 0 ? 40_000_000 : 0));
    for (const s of samples) windows.record(s);
    const window = windows.take();
    assert.ok(window !== undefined);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const stddev = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
    assert.equal(window.count, 1000);
    assert.equal(window.min, Math.min(...samples));
    assert.equal(window.max, Math.max(...samples));
    close(window.mean, mean, 1e-12, "mean");
    close(window.stddev, stddev, 1e-9, "stddev");
    const sorted = [...samples].sort((a, b) => a - b);
    for (const [p, stat] of [
      [50, window.p50],
      [90, window.p90],
      [99, window.p99],
    ] as const) {
      close(stat, sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? NaN, 1e-3, `p${p}`);
    }
  });

  it("starts a new window at each take, and has none to give when nothing was recorded", () => {
    const windows = new DelayWindows();
    assert.equal(windows.take(), undefined);
    windows.record(30_000_000);
    assert.equal(windows.take()?.max, 30_000_000);
    assert.equal(windows.take(), undefined);
    windows.record(12_000_000);
    windows.record(11_000_000);
    const next = windows.take();
    // Nothing of the first window is left: its 30 ms would show in the spread and the 99th percentile.
    assert.deepEqual([next?.count, next?.min, next?.max, next?.mean, next?.stddev], [2, 11_000_000, 12_000_000, 11_500_000, 500_000]);
    close(next?.p99 ?? NaN, 12_000_000, 1e-3, "p99 of the second window");
  });
});

describe("registerEventLoopDelay", () => {
  it("exposes prom-client's eight event-loop families with the delays of a blocked loop", async (t) => {
    const registry = new Registry();
    const stop = registerEventLoopDelay(registry);
    t.after(stop);
    await new Promise((r) => setTimeout(r, 60));
    await registryText(registry); // closes the first window
    const blockedUntil = performance.now() + 80;
    while (performance.now() < blockedUntil); // the loop is held for 80 ms
    await new Promise((r) => setTimeout(r, 30));
    const text = await registryText(registry);
    for (const name of EVENT_LOOP_FAMILY_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, "m"));
    const max = valueOf(text, "nodejs_eventloop_lag_max_seconds") ?? NaN;
    assert.ok(max >= 0.08 && max < 1, `max ${max} should show the 80 ms the loop was held`);
    const min = valueOf(text, "nodejs_eventloop_lag_min_seconds") ?? NaN;
    assert.ok(min > 0.005 && min <= max, `min ${min} is about the 10 ms resolution`);
    assert.ok((valueOf(text, "nodejs_eventloop_lag_stddev_seconds") ?? NaN) > 0);
  });
});
