import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { registryText } from "../../../src/exposition/registry-text.js";
import { parseExposition, promtoolCheckMetrics } from "../../helpers.js";

/** A registry with what the exporter's own registries hold: counters with and without labels, gauges, a histogram, awkward label values. */
function sampleRegistry(): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: "demo_requests_total",
    help: "Requests, by operation.",
    labelNames: ["operation"],
    registers: [registry],
  });
  requests.inc({ operation: "GetSession" }, 3);
  requests.inc({ operation: 'odd "quoted" \\ back\nslash' }, 1);
  new Counter({ name: "demo_never_total", help: "Never counted: a header and no sample.", registers: [registry] });
  new Gauge({ name: "demo_up", help: "A help with a backslash \\ and\na newline.", registers: [registry] }).set(1);
  new Gauge({ name: "demo_nan", help: "Not a number.", registers: [registry] }).set(NaN);
  const duration = new Histogram({
    name: "demo_duration_seconds",
    help: "Durations.",
    labelNames: ["operation"],
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  duration.observe({ operation: "GetSession" }, 0.05);
  duration.observe({ operation: "GetSession" }, 5);
  return registry;
}

const key = (s: { name: string; labels: Record<string, string> }): string => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

describe("registryText", () => {
  it("shows the samples prom-client's own formatter shows, value for value", async () => {
    const registry = sampleRegistry();
    const ours = new Map(parseExposition(await registryText(registry)).map((s) => [key(s), s.value]));
    // prom-client writes NaN as "Nan", which Number() does not read: compare it apart.
    const theirs = parseExposition((await registry.metrics()).replace(/ Nan$/gm, " NaN"));
    assert.equal(ours.size, theirs.length);
    for (const sample of theirs) assert.deepEqual(ours.get(key(sample)), sample.value, key(sample));
    assert.ok(ours.has(key({ name: "demo_duration_seconds_bucket", labels: { operation: "GetSession", le: "+Inf" } })));
  });

  it("writes every family's HELP and TYPE, one sample missing or not, and passes promtool", async () => {
    const text = await registryText(sampleRegistry());
    assert.match(text, /^# HELP demo_never_total Never counted: a header and no sample\.\n# TYPE demo_never_total counter\n/m);
    assert.match(text, /^# HELP demo_up A help with a backslash \\\\ and\\na newline\.$/m);
    assert.match(text, /^demo_requests_total\{operation="odd \\"quoted\\" \\\\ back\\nslash"\} 1$/m);
    assert.match(text, /^demo_nan NaN$/m);
    assert.equal(promtoolCheckMetrics(text), "");
  });
});
