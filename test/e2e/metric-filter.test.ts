import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { loadConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { FILTERABLE_FAMILIES } from "../../src/catalog/family-filter.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, parseExposition, promtoolCheckMetrics, stackFor, testDeps, valueOf, waitFor } from "../helpers.js";

const FILTERABLE = new Set(FILTERABLE_FAMILIES);

/** Every series of the calculation, session, workgroup, counter and price families, as `name{labels}`, sorted. */
const filterableSeries = (text: string): string[] =>
  parseExposition(text)
    .filter((s) => FILTERABLE.has(s.name) || FILTERABLE.has(s.name.replace(/_(bucket|sum|count)$/, "")))
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();

/** A raw GET with one Accept-Encoding, decoded here: fetch would ask for gzip and decode it itself. */
function scrapeAs(url: string, encoding: "gzip" | "identity"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { headers: { "Accept-Encoding": encoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        if (res.headers["content-encoding"] !== (encoding === "gzip" ? "gzip" : undefined))
          reject(new Error(`answered ${res.headers["content-encoding"]}`));
        else resolve((encoding === "gzip" ? gunzipSync(body) : body).toString("utf8"));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const familiesIn = (text: string): Set<string> => new Set(parseExposition(text).map((s) => s.name));

/** Gone whole: no sample, and no HELP or TYPE line either. */
function assertAbsent(text: string, name: string): void {
  assert.equal(familiesIn(text).has(name), false, `${name} has samples`);
  assert.equal(text.includes(`# HELP ${name} `) || text.includes(`# TYPE ${name} `), false, `${name} has its header`);
}

describe("metrics.deny at start, through the real SDK", () => {
  it("leaves a denied family out and exposes every other", async (t) => {
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg");
      return {
        calculations: [
          sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id,
          sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id,
        ],
        extraYaml: "metrics: {deny: [athena_calculation_info, 'athena_session_.*_timestamp_seconds']}",
      };
    });
    await stack.scrape(); // sessions are learnt from their calculations' first refresh
    const text = await stack.scrape();
    for (const name of [
      "athena_calculation_info",
      "athena_session_start_timestamp_seconds",
      "athena_session_last_refresh_timestamp_seconds",
    ]) {
      assertAbsent(text, name);
    }
    const families = familiesIn(text);
    for (const name of [
      "athena_calculation_state",
      "athena_calculation_up",
      "athena_session_state",
      "athena_calculations_finished_total",
    ]) {
      assert.ok(families.has(name), `${name} is exposed`);
    }
    assert.equal(parseExposition(text).filter((s) => s.name === "athena_calculation_up").length, 2);
    assert.ok(families.has("athena_exporter_scrape_duration_seconds_count") && families.has("process_cpu_seconds_total"));
    assert.equal(promtoolCheckMetrics(text), "");
  });
});

describe("metrics.allow / metrics.deny on reload, through the real SDK", () => {
  const simulator = new AthenaSimulator();
  const session = simulator.state.addSession("wg");
  simulator.state.tagWorkGroup("wg", { team: "data-eng" });
  const completed = simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id;
  const running = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
  let dir = "";
  let file = "";
  let endpoint = "";
  let server: RunningServer;
  let full: string[] = [];
  // Discovery runs once, at start; a TTL of an hour means nothing is fetched again unless the filter made it so.
  const yaml = (metrics: string): string =>
    [
      // The simulator answers STS too: the workgroup ARN its tags are read by.
      `aws: {region: us-east-1, endpoint: "${endpoint}", stsEndpoint: "${endpoint}", maxAttempts: 1}`,
      `calculations: [${completed}, ${running}]`,
      "discovery: {workgroups: [wg], interval: 1h, workgroupTags: [team]}",
      "cache: {ttl: 1h}",
      metrics,
    ].join("\n");
  const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
  const reload = async (metrics: string): Promise<Response> => {
    await writeFile(file, yaml(metrics));
    return fetch(`${server.url}/-/reload`, { method: "POST" });
  };

  before(async () => {
    endpoint = await simulator.start(0, "127.0.0.1");
    dir = await mkdtemp(join(tmpdir(), "ace-filter-"));
    file = join(dir, "config.yaml");
    await writeFile(file, yaml(""));
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok);
    server = await startServer(
      loaded.value,
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memoryLogger().logger), configSource: fileSource(file) },
    );
    await waitFor(
      async () => {
        const families = familiesIn(await scrape());
        return families.has("athena_workgroup_tags") && families.has("athena_session_state") && families.has("athena_calculation_info");
      },
      10_000,
      "discovery's workgroup and the calculations' session",
    );
    full = filterableSeries(await scrape());
  });
  after(async () => {
    await server.close();
    await simulator.stop();
    await rm(dir, { recursive: true });
  });

  it("takes a denied family out of the next scrape and leaves every other series as it was", async () => {
    const denied = [
      "athena_calculation_info",
      "athena_calculations_finished_total",
      "athena_session_start_timestamp_seconds",
      "athena_session_end_timestamp_seconds",
      "athena_session_idle_since_timestamp_seconds",
      "athena_session_last_modified_timestamp_seconds",
      "athena_session_last_refresh_timestamp_seconds",
      "athena_workgroup_tags",
      "athena_dpu_hour_price_usd",
    ];
    const res = await reload(
      "metrics:\n  deny: [athena_calculation_info, athena_calculations_finished_total, 'athena_session_.*_timestamp_seconds', athena_workgroup_tags, athena_dpu_hour_price_usd]",
    );
    assert.equal(res.status, 200, await res.text());
    const text = await scrape();
    for (const name of denied) assertAbsent(text, name);
    const expected = full.filter((series) => !denied.some((name) => series.startsWith(`${name}{`)));
    assert.deepEqual(filterableSeries(text), expected);
    // Both paths: the identity body, and the gzip one whose settled text is kept compressed per family.
    for (const encoding of ["identity", "gzip"] as const) {
      const body = await scrapeAs(server.url, encoding);
      for (const name of denied) assertAbsent(body, name);
      assert.deepEqual(filterableSeries(body), expected, encoding);
    }
    assert.equal(valueOf(text, "athena_exporter_config_last_reload_successful"), 1);
    assert.equal(promtoolCheckMetrics(text), "");
  });

  it("with allow, shows only the allowed families beside the exporter's own health", async () => {
    assert.equal((await reload("metrics: {allow: [athena_calculation_up, 'athena_calculations_.*']}")).status, 200);
    const text = await scrape();
    assert.deepEqual(
      new Set(filterableSeries(text).map((series) => series.slice(0, series.indexOf("{")))),
      new Set([
        "athena_calculation_up",
        "athena_calculations_finished_total",
        "athena_calculations_dpu_execution_seconds_total",
        // A histogram family is allowed by its name, and brings its three kinds of series.
        ...["_bucket", "_sum", "_count"].flatMap((suffix) => [
          `athena_calculations_finished_duration_seconds${suffix}`,
          `athena_calculations_finished_dpu_execution_seconds${suffix}`,
        ]),
      ]),
    );
    const families = familiesIn(text);
    assert.ok(families.has("athena_exporter_calculations_tracked") && families.has("athena_exporter_build_info"));
    assert.ok(families.has("process_cpu_seconds_total"));
  });

  it("refuses a list naming an unknown family and keeps the filter in use", async () => {
    const res = await reload("metrics: {deny: [athena_calcuation_state]}");
    assert.equal(res.status, 500);
    assert.match(
      await res.text(),
      /metrics\.deny\[0\]: "athena_calcuation_state" is not a family name .*close names: athena_calculation_state/,
    );
    const text = await scrape();
    assertAbsent(text, "athena_calculation_state");
    assert.equal(valueOf(text, "athena_exporter_config_last_reload_successful"), 0);
  });

  it("brings every family back when the lists go, settled text included, without asking Athena again", async () => {
    const calls = simulator.calls();
    assert.equal((await reload("")).status, 200);
    const text = await scrape();
    assert.deepEqual(filterableSeries(text), full);
    assert.equal(valueOf(text, "athena_calculation_info", { calculation_execution_id: completed }), 1);
    assert.equal(simulator.calls(), calls, "no call to Athena");
  });
});
