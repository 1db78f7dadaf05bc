import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { ALL_FAMILIES } from "../../src/exposition/families.js";
import { withMetricsTable } from "../../src/exposition/metrics-table.js";
import { parseExposition, startStack } from "../helpers.js";

interface Shape {
  readonly type: string;
  readonly labels: string;
}

/** Each family of a scrape with its type and sorted label names, prom-client's process_* and nodejs_* defaults aside. */
function scrapedFamilies(text: string): Map<string, Shape> {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]));
  const labels = new Map<string, Set<string>>();
  for (const sample of parseExposition(text)) {
    const family = types.has(sample.name) ? sample.name : sample.name.replace(/_(bucket|sum|count)$/, "");
    const names = Object.keys(sample.labels).filter((l) => !(l === "le" && types.get(family) === "histogram"));
    // One family's samples all carry the same label names.
    const known = labels.get(family);
    if (known !== undefined) assert.deepEqual([...names].sort(), [...known].sort(), `label names of ${family}`);
    labels.set(family, new Set(names));
  }
  const families = new Map<string, Shape>();
  for (const [name, type] of types) {
    if (name.startsWith("process_") || name.startsWith("nodejs_")) continue;
    families.set(name, { type, labels: [...(labels.get(name) ?? [])].sort().join(",") });
  }
  return families;
}

// Like kube-state-metrics' doccheck: README's metric table comes from the
// family lists (npm run generate:readme), and a real scrape matches them.
describe("README", () => {
  it("has the metric table generated from the family lists (run npm run generate:readme)", async () => {
    const readme = await readFile("README.md", "utf8");
    assert.equal(readme, withMetricsTable(readme, ALL_FAMILIES));
  });

  it("lists every family a scrape exposes with its type and label names, and no other", async () => {
    const MISSING = "00000000-0000-4000-8000-000000000404";
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      const failed = sim.state.addCalculation({
        sessionId: session.id,
        state: "FAILED",
        stateChangeReason: "OutOfMemoryError",
        submittedAtMs: 1_700_000_000_000,
        completedAtMs: 1_700_000_042_000,
        dpuExecutionMillis: 10,
      }).id;
      const running = sim.state.addCalculation({
        sessionId: session.id,
        state: "RUNNING",
        progress: "Stage 2/4",
        submittedAtMs: 1_700_000_000_000,
      }).id;
      // Sessions in every situation, discovered in a workgroup of their own: idle, degraded with a
      // reason, ended in failure, and one that fails to refresh.
      sim.state.addSession("side", { idleSinceMs: 1_700_000_000_000 });
      sim.state.addSession("side", { state: "DEGRADED", stateChangeReason: "executor lost" });
      sim.state.addSession("side", { state: "FAILED", stateChangeReason: "out of memory", endedAtMs: Date.now() });
      const failing = sim.state.addSession("side").id;
      sim.injectFault({ kind: "InternalServerException", operation: "GetSession", resourceId: failing });
      sim.state.tagWorkGroup("side", { team: "platform" });
      return {
        calculations: [failed, running, MISSING],
        extraYaml: "discovery: {workgroups: [side], interval: 1h, workgroupTags: [team]}",
      };
    });
    try {
      await new Promise((r) => setTimeout(r, 300)); // the first discovery run
      await stack.scrape();
      const scraped = scrapedFamilies(await stack.scrape());
      // prom-client shows a family without series (target_info here) by its # lines alone: no label names to compare.
      const listed = new Map(ALL_FAMILIES.map((f) => [f.name, { type: f.type, labels: [...f.labelNames].sort().join(",") }]));
      for (const [name, shape] of scraped) {
        const spec = listed.get(name);
        assert.ok(spec, `${name} is exposed but in no family list`);
        assert.equal(shape.type, spec.type, `type of ${name}`);
        // athena_workgroup_tags's tag_<key> labels come from the configuration, so its list names the fixed ones alone.
        const fixed = shape.labels
          .split(",")
          .filter((l) => !l.startsWith("tag_"))
          .join(",");
        if (shape.labels !== "") assert.equal(fixed, spec.labels, `label names of ${name}`);
      }
      assert.deepEqual(
        [...listed.keys()].filter((name) => !scraped.has(name)),
        [],
        "listed but not exposed",
      );
    } finally {
      await stack.stop();
    }
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
