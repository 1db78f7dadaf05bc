import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { type Stack, startStack, waitFor } from "../helpers.js";
import { startPrometheus, type RunningPrometheus } from "../prometheus-server.js";
import { rulesAtTestPace } from "./mixin.js";

/** The alerts README's "make Athena fail" recipe says fire once the simulator is stopped. */
const RECIPE_ALERTS = [
  "AthenaExporterApiErrors",
  "AthenaExporterRefreshFailing",
  "AthenaSessionRefreshFailing",
  "AthenaExporterDataStale",
  "AthenaExporterDiscoveryStale",
  "AthenaExporterListingFailing",
];

/** The config README's recipe gives the exporter, as README writes it. */
async function recipeConfig(): Promise<Record<string, unknown>> {
  const readme = await readFile("README.md", "utf8");
  const recipe = /Athena must\s+fail\.[^]*?with discovery on \(`([^`]+)`/.exec(readme)?.[1];
  assert.ok(recipe !== undefined, "README's recipe gives the exporter a config in backquotes");
  return parse(recipe) as Record<string, unknown>;
}

/**
 * The shipped rules with their waits and staleness thresholds in seconds,
 * from the same config: what this test proves of the expressions holds for
 * alerts.yml.
 */
function fastRules(): string {
  return rulesAtTestPace({ dataStaleAfterSeconds: 4, discoveryStaleAfterSeconds: 4 });
}

describe("README's make-Athena-fail recipe, with a real Prometheus and the shipped rules", () => {
  let stack: Stack;
  let prometheus: RunningPrometheus;

  before(async () => {
    const config = await recipeConfig();
    // The recipe's discovery, run every second rather than every minute; the cache refreshes every half second.
    const discovery = { ...(config.discovery as Record<string, unknown>), interval: "1s" };
    stack = await startStack((sim) => {
      const session = sim.state.addSession("analytics-spark");
      for (let i = 0; i < 3; i++) sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" });
      return { calculations: [], extraYaml: stringify({ ...config, discovery, cache: { ttl: "500ms" } }) };
    });
    // "let it watch some unfinished calculations"
    await waitFor(
      async () => ((await stack.scrape()).match(/^athena_calculation_up\{.*\} 1$/gm) ?? []).length === 3,
      15_000,
      "the recipe's discovery finds the unfinished calculations",
    );
    prometheus = await startPrometheus(new URL(stack.server.url).host, fastRules());
    await waitFor(async () => (await prometheus.query("up == 1")).result.length === 1, 15_000, "Prometheus scraping the exporter");
    // "then stop the simulator"
    await stack.simulator.stop();
  });

  after(async () => {
    await prometheus.stop();
    await stack.stop();
  });

  it("fires every alert the recipe names once Athena is gone", async () => {
    let firing = new Set<string>();
    await waitFor(
      async () => {
        firing = new Set((await prometheus.alerts()).filter((a) => a.state === "firing").map((a) => a.labels.alertname ?? ""));
        return RECIPE_ALERTS.every((name) => firing.has(name));
      },
      90_000,
      "every alert of the recipe",
    ).catch(() => undefined);
    assert.deepEqual(
      RECIPE_ALERTS.filter((name) => !firing.has(name)),
      [],
      `alerts of the recipe that did not fire (firing: ${[...firing].join(", ")})`,
    );
  });
});
