import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { loadConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, samplesOf, testDeps, valueOf } from "../helpers.js";

const PROD_ROLE = "arn:aws:iam::111111111111:role/athena-reader";
const DEV_ROLE = "arn:aws:iam::222222222222:role/athena-reader";
const DENIED_ROLE = "arn:aws:iam::333333333333:role/not-trusted";

describe("several targets, each with its own role, region and calculations", () => {
  const simulator = new AthenaSimulator();
  const session = simulator.state.addSession("wg");
  const prodCalc = simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id;
  const devCalc = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
  const lockedCalc = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
  let dir = "";
  let file = "";
  let running: RunningServer;
  let endpoint = "";
  const yaml = (extra = ""): string =>
    [
      `aws: {region: us-east-1, endpoint: "${endpoint}", stsEndpoint: "${endpoint}", maxAttempts: 1}`,
      "targets:",
      `  - {name: prod, region: eu-west-1, role: {arn: "${PROD_ROLE}", externalId: prod-ext}, calculations: [${prodCalc}]}`,
      `  - {name: dev, role: {arn: "${DEV_ROLE}"}, calculations: [${devCalc}]}`,
      `  - {name: locked, role: {arn: "${DENIED_ROLE}"}, calculations: [${lockedCalc}]}`,
      extra,
    ].join("\n");
  const scrape = async (query: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${running.url}/metrics${query}`);
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    endpoint = await simulator.start(0, "127.0.0.1");
    simulator.allowRole(PROD_ROLE, "prod-ext");
    simulator.allowRole(DEV_ROLE);
    dir = await mkdtemp(join(tmpdir(), "ace-targets-"));
    file = join(dir, "config.yaml");
    await writeFile(file, yaml());
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.error.problems.join("; "));
    running = await startServer(
      loaded.value,
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memoryLogger().logger), configSource: fileSource(file) },
    );
  });
  after(async () => {
    await running.close();
    await simulator.stop();
    await rm(dir, { recursive: true });
  });

  it("serves each target at /metrics?target=NAME, with the label set of a single target", async () => {
    const prod = await scrape("?target=prod");
    assert.equal(prod.status, 200);
    assert.deepEqual(
      samplesOf(prod.text, "athena_calculation_up").map((s) => s.labels.calculation_execution_id),
      [prodCalc],
    );
    const state = samplesOf(prod.text, "athena_calculation_state")[0];
    assert.deepEqual(Object.keys(state?.labels ?? {}).sort(), ["calculation_execution_id", "session_id", "state", "workgroup"]);
    const dev = await scrape("?target=dev");
    assert.deepEqual(
      samplesOf(dev.text, "athena_calculation_up").map((s) => s.labels.calculation_execution_id),
      [devCalc],
    );
  });

  it("signs each target's calls with the credentials of its own role, in its own region", async () => {
    await scrape("?target=prod");
    await scrape("?target=dev");
    const byRole = new Map<string, Set<string>>();
    for (const key of simulator.signedCalls().keys()) {
      const [accessKeyId = "", region = ""] = key.split(" ");
      const role = simulator.roleOf(accessKeyId) ?? `not assumed (${accessKeyId})`;
      byRole.set(role, (byRole.get(role) ?? new Set()).add(region));
    }
    assert.deepEqual([...(byRole.get(PROD_ROLE) ?? [])], ["eu-west-1"]);
    assert.deepEqual([...(byRole.get(DEV_ROLE) ?? [])], ["us-east-1"]);
    assert.ok(![...byRole.keys()].some((r) => r.startsWith("not assumed")), "a call went out without its target's role");
  });

  it("shows a target whose role is denied as down, while the others keep working", async () => {
    const locked = await scrape("?target=locked");
    assert.equal(locked.status, 200);
    assert.equal(valueOf(locked.text, "athena_calculation_up", { calculation_execution_id: lockedCalc }), 0);
    assert.equal(
      valueOf(locked.text, "athena_calculation_refresh_error_info", {
        calculation_execution_id: lockedCalc,
        error: "AccessDeniedException",
      }),
      1,
    );
    assert.ok(
      (valueOf(locked.text, "athena_exporter_api_request_failures_total", {
        operation: "GetCalculationExecution",
        error: "AccessDeniedException",
      }) ?? 0) >= 1,
    );
    assert.equal(valueOf((await scrape("?target=dev")).text, "athena_calculation_up", { calculation_execution_id: devCalc }), 1);
  });

  it("serves its own metrics and the list of targets at /metrics, and 404 for an unknown target", async () => {
    const root = await scrape("");
    assert.equal(samplesOf(root.text, "athena_calculation_up").length, 0);
    assert.ok((valueOf(root.text, "process_resident_memory_bytes") ?? 0) > 0);
    assert.equal(
      valueOf(root.text, "athena_exporter_target_info", { target: "prod", aws_region: "eu-west-1", aws_account_id: "111111111111" }),
      1,
    );
    assert.equal(samplesOf(root.text, "athena_exporter_target_info").length, 3);
    const unknown = await scrape("?target=staging");
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /unknown target "staging": configured are prod, dev, locked/);
  });

  it("refreshes assumed credentials before they expire", async () => {
    simulator.credentialLifetimeMs = 1000; // inside the SDK's refresh window at once
    await writeFile(file, yaml("cache: {ttl: 100ms}").replace("name: dev,", "name: dev2,"));
    assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
    await scrape("?target=dev2");
    const afterFirst = simulator.assumeRoleCalls;
    await new Promise((r) => setTimeout(r, 1100));
    const second = await scrape("?target=dev2");
    assert.equal(valueOf(second.text, "athena_calculation_up", { calculation_execution_id: devCalc }), 1);
    assert.ok(simulator.assumeRoleCalls > afterFirst, "expired credentials were used instead of fresh ones");
    simulator.credentialLifetimeMs = 3_600_000;
  });

  it("adds and removes targets on reload", async () => {
    await writeFile(file, yaml().replace(/ {2}- \{name: locked.*\n/, ""));
    assert.equal((await fetch(`${running.url}/-/reload`, { method: "POST" })).status, 200);
    assert.equal((await scrape("?target=locked")).status, 404);
    assert.equal((await scrape("?target=prod")).status, 200);
  });
});

describe("a single-target config", () => {
  it("refuses ?target= with 400 rather than ignoring it", async () => {
    const simulator = new AthenaSimulator();
    const endpoint = await simulator.start(0, "127.0.0.1");
    const dir = await mkdtemp(join(tmpdir(), "ace-single-"));
    const file = join(dir, "c.yaml");
    await writeFile(file, `aws: {region: us-east-1, endpoint: "${endpoint}"}\ncalculations: []\n`);
    const loaded = await loadConfig(file, FAMILY_NAMES);
    assert.ok(loaded.ok);
    const running = await startServer(loaded.value, { host: "127.0.0.1", port: 0 }, { deps: testDeps(memoryLogger().logger) });
    try {
      assert.equal((await fetch(`${running.url}/metrics?target=prod`)).status, 400);
    } finally {
      await running.close();
      await simulator.stop();
      await rm(dir, { recursive: true });
    }
  });
});
