import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { loadConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, samplesOf, TEST_CREDENTIALS, testDeps, valueOf, waitFor } from "../helpers.js";

const ups = (text: string): string[] =>
  samplesOf(text, "athena_calculation_up")
    .map((s) => s.labels.calculation_execution_id ?? "")
    .sort();

describe("config reload", () => {
  const simulator = new AthenaSimulator();
  const session = simulator.state.addSession("wg");
  const a = simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id;
  const b = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
  const c = simulator.state.addCalculation({ sessionId: session.id, state: "FAILED", dpuExecutionMillis: 2000 }).id;
  let dir = "";
  let file = "";
  let endpoint = "";
  let running: RunningServer;
  let logs: () => Record<string, unknown>[];
  const yaml = (ids: string[], extra = ""): string =>
    `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1}\ncalculations: [${ids.join(", ")}]\n${extra}`;
  const scrape = async (): Promise<string> => (await fetch(`${running.url}/metrics`)).text();

  before(async () => {
    endpoint = await simulator.start(0, "127.0.0.1");
    dir = await mkdtemp(join(tmpdir(), "ace-reload-"));
    file = join(dir, "config.yaml");
    await writeFile(file, yaml([a, b]));
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok);
    const memory = memoryLogger();
    logs = memory.lines;
    running = await startServer(
      loaded.value,
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memory.logger), configSource: fileSource(file) },
    );
  });
  after(async () => {
    await running.close();
    await simulator.stop();
    await rm(dir, { recursive: true });
  });

  it("applies a good config at once: new calculations appear, removed ones go", async () => {
    assert.deepEqual(ups(await scrape()), [a, b].sort());
    await writeFile(file, yaml([a, c]));
    const res = await fetch(`${running.url}/-/reload`, { method: "POST" });
    assert.equal(res.status, 200);
    const text = await scrape();
    assert.deepEqual(ups(text), [a, c].sort());
    assert.equal(
      samplesOf(text, "athena_calculation_state").some((s) => s.labels.calculation_execution_id === b),
      false,
    );
    assert.equal(valueOf(text, "athena_exporter_config_last_reload_successful"), 1);
    assert.equal(simulator.calls("GetCalculationExecution", a), 1, "what was known of a kept calculation is kept");
  });

  it("refuses a bad config with the reason, keeps the old one serving, and says so in its metrics", async () => {
    await writeFile(file, "calculations: [not-a-uuid]\n");
    const res = await fetch(`${running.url}/-/reload`, { method: "POST" });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /failed to reload config: .*calculations\[0\]: is not a calculation execution ID/);
    const text = await scrape();
    assert.deepEqual(ups(text), [a, c].sort());
    assert.equal(valueOf(text, "athena_exporter_config_last_reload_successful"), 0);
    assert.equal(valueOf(text, "athena_exporter_config_reload_failures_total"), 1);
    assert.ok(logs().some((l) => l.msg === "config reload failed; the previous configuration stays in use" && l.level === "error"));
  });

  it("never repeats a URL's password or a huge value in the 500 answer or the log", async () => {
    const before = logs().length;
    await writeFile(
      file,
      `aws: {region: us-east-1, endpoint: "ftp://user:s3cret@x", maxAttempts: 1}\ncache: {ttl: ${"y".repeat(10_000)}}\n`,
    );
    const res = await fetch(`${running.url}/-/reload`, { method: "POST" });
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.match(body, /aws\.endpoint: must be an http:\/\/ or https:\/\/ URL, got string "ftp:\/\/\*\*\*@x"/);
    assert.match(body, /cache\.ttl: "y+…/);
    assert.ok(body.length < 600, `${body.length} characters`);
    const logged = JSON.stringify(logs().slice(before));
    assert.ok(logged.includes("config reload failed"), logged.slice(0, 500));
    assert.ok(!body.includes("s3cret") && !logged.includes("s3cret"), "the password was repeated");
    assert.ok(!logged.includes("y".repeat(100)), "the huge value was logged whole");
    await writeFile(file, yaml([a, c]));
    assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
  });

  it("answers GET /-/reload with 405, as it changes state", async () => {
    assert.equal((await fetch(`${running.url}/-/reload`)).status, 405);
  });

  it("counts a finish once across reloads that drop and re-add the calculation", async () => {
    const d = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING", dpuExecutionMillis: 500 }).id;
    const reloadWith = async (ids: string[]): Promise<void> => {
      await writeFile(file, yaml(ids, "cache: {ttl: 1ms}"));
      assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
    };
    await reloadWith([a, d]);
    await scrape();
    simulator.state.setState(d, "FAILED");
    await new Promise((r) => setTimeout(r, 5)); // past the TTL
    await scrape();
    await reloadWith([a]);
    await scrape();
    await reloadWith([a, d]);
    await scrape();
    const text = await scrape();
    assert.equal(valueOf(text, "athena_calculations_finished_total", { workgroup: "wg", state: "FAILED" }), 1);
    assert.equal(valueOf(text, "athena_calculations_dpu_execution_seconds_total", { workgroup: "wg" }), 0.5);
  });
});

describe("SIGHUP", () => {
  it("reloads the config of the running program", async () => {
    const simulator = new AthenaSimulator();
    const session = simulator.state.addSession("wg");
    const first = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
    const second = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
    const endpoint = await simulator.start(0, "127.0.0.1");
    const dir = await mkdtemp(join(tmpdir(), "ace-sighup-"));
    const file = join(dir, "config.yaml");
    await writeFile(file, `aws: {region: us-east-1, endpoint: "${endpoint}"}\ncalculations: [${first}]\n`);
    const child = spawn(
      process.execPath,
      [
        new URL("../../dist/main.js", import.meta.url).pathname,
        `--config.file=${file}`,
        "--web.listen-address=127.0.0.1:0",
        "--log.format=json",
      ],
      {
        env: { ...process.env, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
      },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    try {
      await waitFor(() => stdout.includes("exporter listening"), 15_000, "the exporter to listen");
      const url = (JSON.parse(stdout.split("\n").find((l) => l.includes("exporter listening")) ?? "{}") as { url: string }).url;
      assert.deepEqual(ups(await (await fetch(url)).text()), [first]);
      await writeFile(file, `aws: {region: us-east-1, endpoint: "${endpoint}"}\ncalculations: [${first}, ${second}]\n`);
      child.kill("SIGHUP");
      await waitFor(() => stdout.includes('"msg":"config reloaded"'), 10_000, "the reload");
      assert.deepEqual(ups(await (await fetch(url)).text()), [first, second].sort());
    } finally {
      child.kill("SIGKILL");
      await simulator.stop();
      await rm(dir, { recursive: true });
    }
  });
});

describe("config reload with discovery on", () => {
  const simulator = new AthenaSimulator();
  const a = simulator.state.addSession("spark-a");
  const b = simulator.state.addSession("spark-b");
  const inA = [
    ...Array.from(
      { length: 150 },
      () => simulator.state.addCalculation({ sessionId: a.id, state: "COMPLETED", dpuExecutionMillis: 10 }).id,
    ),
    ...Array.from({ length: 50 }, () => simulator.state.addCalculation({ sessionId: a.id, state: "RUNNING" }).id),
  ];
  const inB = Array.from({ length: 10 }, () => simulator.state.addCalculation({ sessionId: b.id, state: "RUNNING" }).id);
  let dir = "";
  let file = "";
  let running: RunningServer;
  let logs: () => Record<string, unknown>[];
  let yaml: (discovery: string) => string = () => "";
  const scrape = async (): Promise<string> => (await fetch(`${running.url}/metrics`)).text();
  const reload = async (discovery: string): Promise<void> => {
    await writeFile(file, yaml(discovery));
    assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
  };

  before(async () => {
    const endpoint = await simulator.start(0, "127.0.0.1");
    yaml = (discovery) =>
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\ncache: {ttl: 1h}\ndiscovery: ${discovery}\n`;
    dir = await mkdtemp(join(tmpdir(), "ace-reload-discovery-"));
    file = join(dir, "config.yaml");
    await writeFile(file, yaml("{workgroups: [spark-a, spark-b], interval: 300ms}"));
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok);
    const memory = memoryLogger();
    logs = memory.lines;
    running = await startServer(
      loaded.value,
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memory.logger), configSource: fileSource(file) },
    );
    await waitFor(async () => ups(await scrape()).length === 210, 10_000, "every calculation to be discovered");
  });
  after(async () => {
    await running.close();
    await simulator.stop();
    await rm(dir, { recursive: true });
  });

  it("keeps every discovered calculation and its cache through a reload of the same file", async () => {
    const calls = simulator.calls("GetCalculationExecution");
    await reload("{workgroups: [spark-a, spark-b], interval: 300ms}");
    const text = await scrape();
    assert.deepEqual(ups(text), [...inA, ...inB].sort());
    assert.equal(samplesOf(text, "athena_calculation_up").filter((s) => s.value === 1).length, 210);
    assert.equal(simulator.calls("GetCalculationExecution"), calls, "nothing was fetched again");
  });

  it("drops only the workgroup no longer discovered, and counts no interrupted listing as a failure", async () => {
    const calls = simulator.calls("GetCalculationExecution");
    // A listing is in flight when the reload lands.
    simulator.injectFault({ kind: "delay", delayMs: 1000, operation: "ListSessions", remaining: 1 });
    await new Promise((r) => setTimeout(r, 400));
    await reload("{workgroups: [spark-a], interval: 250ms}");
    const text = await scrape();
    assert.deepEqual(ups(text), [...inA].sort());
    assert.equal(simulator.calls("GetCalculationExecution"), calls, "nothing was fetched again");
    await new Promise((r) => setTimeout(r, 1200)); // the delayed listing ends
    const later = await scrape();
    assert.deepEqual(ups(later), [...inA].sort());
    const timeouts = samplesOf(later, "athena_exporter_api_request_failures_total").filter(
      (s) => s.labels.error === "Timeout" && s.value > 0,
    );
    assert.deepEqual(timeouts, []);
    assert.equal(valueOf(later, "athena_exporter_discovery_failures_total"), 0);
    assert.deepEqual(
      logs().filter((l) => l.level === "warn"),
      [],
    );
  });
});
