import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { CALCULATION_FAMILIES } from "../src/calculation-metrics.js";
import { FINISHED_FAMILIES } from "../src/finished-counters.js";
import { ProcessMetrics, SelfMetrics } from "../src/self-metrics.js";

async function readmeMetricNames(): Promise<string[]> {
  const readme = await readFile("README.md", "utf8");
  const table = /<!-- metrics-table:start -->([\s\S]*?)<!-- metrics-table:end -->/.exec(readme)?.[1] ?? "";
  return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] ?? "");
}

function exporterMetricNames(): string[] {
  const own = [...new SelfMetrics().registry.getMetricsAsArray(), ...new ProcessMetrics().registry.getMetricsAsArray()]
    .map((m) => m.name)
    .filter((name) => name.startsWith("athena_"));
  return [...CALCULATION_FAMILIES.map((f) => f.name), ...FINISHED_FAMILIES.map((f) => f.name), ...own];
}

// Like kube-state-metrics' doccheck: the README's metric table and the code
// must name the same metrics.
describe("README", () => {
  it("documents every metric the exporter defines, and no other", async () => {
    assert.deepEqual((await readmeMetricNames()).sort(), exporterMetricNames().sort());
  });

  it("opens with the two commands for a fresh clone", async () => {
    const readme = await readFile("README.md", "utf8");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    assert.match(firstBlock, /^npm ci && npm run demo/m);
    assert.match(firstBlock, /^npm ci && npm test/m);
  });

  it("names the test command that .ci/run runs", async () => {
    const ci = await readFile(".ci/run", "utf8");
    assert.match(ci, /^npm test$/m);
  });
});
