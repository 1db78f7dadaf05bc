import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stackFor, waitFor } from "../helpers.js";
import { startPrometheus } from "../prometheus-server.js";

interface Matrix {
  readonly data: { readonly result: { readonly metric: Record<string, string>; readonly values: [number, string][] }[] };
}

describe("data that is never a scrape behind, with a real Prometheus", () => {
  it("scraping every 2 s against a 2 s TTL, refreshes on every scrape (flat calls) and never serves data older than the TTL", async (t) => {
    const running: string[] = [];
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg", { state: "BUSY" });
      for (let i = 0; i < 5; i++) running.push(sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
      return { calculations: running, extraYaml: "cache: {ttl: 2s}" };
    });
    const prometheus = await startPrometheus(new URL(stack.server.url).host, "groups: []\n", { scrapeInterval: "2s", scrapeTimeout: "1s" });
    t.after(() => prometheus.stop());
    const raw = async (expr: string): Promise<[number, number][]> => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as Matrix;
      return (body.data.result[0]?.values ?? []).map(([at, value]) => [at, Number(value)]);
    };
    await waitFor(
      async () => (await raw('athena_exporter_api_requests_total{operation="GetCalculationExecution"}[1m]')).length >= 11,
      40_000,
      "eleven scrapes",
    );

    // The calls per scrape, from the exporter's own counter: every scrape fetches the 5 unfinished calculations.
    const calls = await raw('athena_exporter_api_requests_total{operation="GetCalculationExecution"}[1m]');
    const perScrape = calls.slice(1).map(([, value], i) => value - (calls[i]?.[1] ?? 0));
    assert.deepEqual(
      perScrape.slice(1),
      perScrape.slice(1).map(() => running.length),
      `calls per scrape are flat, not every other scrape: ${perScrape.join(", ")}`,
    );
    // The age of each calculation's data as each scrape served it.
    for (const id of running) {
      const refreshed = await raw(`athena_calculation_last_refresh_timestamp_seconds{calculation_execution_id="${id}"}[1m]`);
      const ages = refreshed.map(([at, value]) => at - value);
      assert.ok(
        ages.every((age) => age < 2),
        `data age under the 2 s TTL at every scrape: ${ages.map((a) => a.toFixed(2)).join(", ")}`,
      );
    }
  });
});
