import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startServer } from "../../src/http/start-server.js";
import { shardOf } from "../../src/shard.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, samplesOf, stackFor, testConfig, testDeps, valueOf, waitFor } from "../helpers.js";
import { startPrometheus, type RunningPrometheus } from "../prometheus-server.js";

async function scalar(prometheus: RunningPrometheus, expr: string): Promise<number | undefined> {
  const value = (await prometheus.query(expr)).result[0]?.value?.[1];
  return value === undefined ? undefined : Number(value);
}

function idOnShard(shard: number, total: number): string {
  for (;;) {
    const id = randomUUID();
    if (shardOf(id, total) === shard) return id;
  }
}

const SECOND = 1000;

describe("executors through the real SDK, scraped by a real Prometheus", () => {
  it("shows each session's executors and DPUs held, and the failures summed over 2 shards equal those the simulator made", async (t) => {
    const total = 2;
    const simulator = new AthenaSimulator();
    const { state } = simulator;
    const now = Date.now();
    const sessions = Array.from({ length: 6 }, (_, i) =>
      state.addSession(i < 4 ? "wg" : "other-wg", { id: idOnShard(i % total, total), state: "BUSY", startedAtMs: now - 3600 * SECOND }),
    );
    // Before the exporters start: each session has 3 workers running, and 150 that ended long ago (2 pages), 10 of them FAILED.
    for (const [i, session] of sessions.entries()) {
      state.executors.addWorkers(session.id, 3, now - 600 * SECOND, undefined);
      for (let k = 0; k < 150; k++) {
        const from = now - (3000 - k * 10) * SECOND;
        state.executors.addWorkers(session.id, 1, from, from + 5 * SECOND, k % 15 === i % 15);
      }
    }
    const failedBefore = state.executors.failures();
    assert.equal(failedBefore, 60);
    const endpoint = await simulator.start(0, "127.0.0.1");
    t.after(() => simulator.stop());
    const yaml =
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
      `calculations: []\ndiscovery: {workgroups: [wg, other-wg], interval: 300ms}\ncache: {ttl: 1s}\n`;
    const replicas = await Promise.all(
      Array.from({ length: total }, (_, ordinal) =>
        startServer(
          testConfig(yaml),
          { host: "127.0.0.1", port: 0 },
          { deps: testDeps(memoryLogger().logger, { shard: { ordinal, total } }) },
        ),
      ),
    );
    t.after(() => Promise.all(replicas.map((r) => r.close())));
    const prometheus = await startPrometheus(
      { scrapeConfigs: [{ job_name: "athena", static_configs: [{ targets: replicas.map((r) => new URL(r.url).host) }] }] },
      "groups: []\n",
    );
    t.after(() => prometheus.stop());

    // Coordinator (1 DPU) and 3 workers of 1 DPU each: 4 DPUs held per session, each session on one replica only.
    await waitFor(
      async () => (await scalar(prometheus, "count(athena_session_executor_dpus == 4)")) === sessions.length,
      20_000,
      "every session's executors listed",
    );
    assert.equal(await scalar(prometheus, "count(count by (instance) (athena_session_executor_dpus))"), total, "both replicas list");
    assert.equal(await scalar(prometheus, 'sum(athena_session_executors{type="WORKER",state="FAILED"})'), failedBefore);
    assert.equal(await scalar(prometheus, 'sum(athena_session_executors{type="WORKER",state="TERMINATED"})'), 6 * 140);
    assert.equal(
      await scalar(prometheus, "sum(athena_executors_failed_total)"),
      0,
      "failures before the exporters watched are not counted",
    );

    // While they watch: a worker of each of 4 sessions fails, one session crash-loops 3 new workers, and one session ends.
    const later = Date.now();
    for (const session of sessions.slice(0, 4)) {
      const running = state.executors.listed(session.id).find((e) => e.type === "WORKER" && e.state === "REGISTERED");
      state.executors.setState(running?.id ?? "", "FAILED");
    }
    for (let k = 0; k < 3; k++) state.executors.addWorkers(sessions[4]?.id ?? "", 1, later + k * 100, later + k * 100 + 50, true);
    state.terminateSession(sessions[5]?.id ?? "");
    await new Promise((resolve) => setTimeout(resolve, 400)); // the crash loop's last worker has failed
    const truth = state.executors.failures() - failedBefore;
    assert.equal(truth, 7);
    await waitFor(
      async () => (await scalar(prometheus, "sum(athena_executors_failed_total)")) === truth,
      20_000,
      `the failures summed over ${total} replicas to be ${truth}`,
    );
    assert.equal(await scalar(prometheus, 'sum(athena_executors_failed_total{workgroup="other-wg"})'), 3);
    await waitFor(
      async () => (await scalar(prometheus, `athena_session_executor_dpus{session_id="${sessions[5]?.id ?? ""}"}`)) === 0,
      20_000,
      "the ended session to hold no DPUs",
    );
    assert.equal(await scalar(prometheus, `athena_session_executor_dpus{session_id="${sessions[0]?.id ?? ""}"}`), 3);
    // Scrapes later, nothing more: each failure is counted once.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(await scalar(prometheus, "sum(athena_executors_failed_total)"), truth);
  });
});

describe("the failed-executors counter across a restart and a reload", () => {
  it("counts only failures this process saw: a restart starts from 0 and never counts the past again, a reload's new workgroup counts from then", async (t) => {
    const simulator = new AthenaSimulator();
    const { state } = simulator;
    const session = state.addSession("wg", { state: "BUSY" });
    const late = state.addSession("late", { state: "BUSY" });
    state.executors.addWorkers(session.id, 3, Date.now() - 60 * SECOND, undefined);
    state.executors.addWorkers(late.id, 2, Date.now() - 60 * SECOND, undefined);
    const endpoint = await simulator.start(0, "127.0.0.1");
    t.after(() => simulator.stop());
    const dir = await mkdtemp(join(tmpdir(), "ace-executors-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "config.yaml");
    const yaml = (workgroups: string): string =>
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
      `calculations: []\ndiscovery: {workgroups: [${workgroups}], interval: 200ms}\ncache: {ttl: 200ms}\n`;
    await writeFile(file, yaml("wg"));
    const start = () =>
      startServer(
        testConfig(yaml("wg")),
        { host: "127.0.0.1", port: 0 },
        { deps: testDeps(memoryLogger().logger), configSource: fileSource(file) },
      );
    const failed = async (url: string, workgroup: string): Promise<number | undefined> =>
      valueOf(await (await fetch(`${url}/metrics`)).text(), "athena_executors_failed_total", { workgroup });
    const workers = (id: string) => state.executors.listed(id).filter((e) => e.type === "WORKER" && e.state === "REGISTERED");

    const first = await start();
    await waitFor(async () => (await failed(first.url, "wg")) === 0, 10_000, "the counter born at 0");
    state.executors.setState(workers(session.id)[0]?.id ?? "", "FAILED");
    await waitFor(async () => (await failed(first.url, "wg")) === 1, 10_000, "the failure counted");
    await first.close();

    const second = await start();
    t.after(() => second.close());
    await waitFor(async () => (await failed(second.url, "wg")) === 0, 10_000, "the restarted exporter's counter at 0");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await failed(second.url, "wg"), 0, "the failure before the restart is not counted again");

    // A reload adds a workgroup whose session lost a worker before it: that failure is not counted, the next one is.
    state.executors.setState(workers(late.id)[0]?.id ?? "", "FAILED");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(file, yaml("wg, late"));
    assert.equal((await fetch(`${second.url}/-/reload`, { method: "POST" })).status, 200);
    await waitFor(async () => (await failed(second.url, "late")) === 0, 10_000, "the added workgroup's counter at 0");
    state.executors.setState(workers(late.id)[0]?.id ?? "", "FAILED");
    await waitFor(async () => (await failed(second.url, "late")) === 1, 10_000, "the failure after the reload counted");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await failed(second.url, "late"), 1);
    assert.equal(await failed(second.url, "wg"), 0);
  });
});

describe("executors under a low list rate", () => {
  it("never holds a scrape for queued listings: each scrape answers at once, and every session's executors arrive over later scrapes", async (t) => {
    const count = 24;
    const sessionIds: string[] = [];
    const stack = await stackFor(t, (sim) => {
      const calculations: string[] = [];
      for (let i = 0; i < count; i++) {
        const session = sim.state.addSession("wg", { state: "BUSY" });
        sessionIds.push(session.id);
        sim.state.executors.addWorkers(session.id, 2, Date.now() - 60 * SECOND, undefined);
        calculations.push(sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED" }).id);
      }
      // Listing all 24 sessions at 4 a second takes 6 s: a scrape that waited for them would take as long.
      return { calculations, aws: { listRequestsPerSecond: 4 }, extraYaml: "cache: {ttl: 1s}" };
    });
    const listedIn = (text: string): number =>
      sessionIds.filter((id) => valueOf(text, "athena_session_executor_dpus", { session_id: id }) === 3).length;
    const started = Date.now();
    let slowest = 0;
    let listed = 0;
    while (listed < count && Date.now() - started < 30_000) {
      const before = Date.now();
      const text = await stack.scrape();
      slowest = Math.max(slowest, Date.now() - before);
      assert.equal(
        samplesOf(text, "athena_calculation_up").filter((s) => s.value === 1).length,
        count,
        "every calculation is served from the first scrape on",
      );
      listed = listedIn(text);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(listed, count, "every session's executors arrive");
    assert.ok(Date.now() - started >= 4000, "the listings took the time the list rate asks for");
    assert.ok(slowest < 2000, `no scrape waited for the queued listings (slowest ${slowest} ms)`);
  });
});

describe("hostile ListExecutors answers", () => {
  const cases = [
    {
      what: "a negative ExecutorSize",
      fields: {
        ExecutorsSummary: [
          { ExecutorId: "e1", ExecutorType: "WORKER", ExecutorState: "REGISTERED", ExecutorSize: -4, StartDateTime: 1_700_000_000_000 },
        ],
      },
      error: /ExecutorSize of executor "e1" -4 is not a number/,
    },
    {
      what: "an unknown ExecutorType",
      fields: {
        ExecutorsSummary: [
          { ExecutorId: "e1", ExecutorType: "DRIVER", ExecutorState: "REGISTERED", ExecutorSize: 1, StartDateTime: 1_700_000_000_000 },
        ],
      },
      error: /unknown ExecutorType "DRIVER"/,
    },
    {
      what: "a NextToken that loops",
      fields: { NextToken: Buffer.from("0").toString("base64url") },
      error: /ListExecutors gave the same NextToken twice/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.what} with a clear error, keeps the last good figures and keeps serving`, async (t) => {
      let sessionId = "";
      const stack = await stackFor(t, (sim) => {
        const session = sim.state.addSession("wg", { state: "BUSY" });
        sessionId = session.id;
        sim.state.executors.addWorkers(session.id, 2, Date.now() - 60 * SECOND, undefined);
        return { calculations: [], extraYaml: "discovery: {workgroups: [wg], interval: 200ms}\ncache: {ttl: 200ms}" };
      });
      let text = "";
      await waitFor(
        async () => {
          text = await stack.scrape();
          return valueOf(text, "athena_session_executor_dpus", { session_id: sessionId }) === 3;
        },
        10_000,
        "the session's executors listed",
      );
      stack.simulator.injectFault({ kind: "override-fields", operation: "ListExecutors", fields: c.fields });
      await waitFor(
        // Listings happen as scrapes refresh what is watched.
        async () => {
          await stack.scrape();
          return stack.logs().some((line) => line.msg === "executor listing refresh failed" && c.error.test(String(line.reason)));
        },
        10_000,
        `a warning naming what is wrong (${String(c.error)})`,
      );
      text = await stack.scrape();
      assert.equal(valueOf(text, "athena_session_executor_dpus", { session_id: sessionId }), 3, "the last good figure stays");
      assert.ok(
        (valueOf(text, "athena_exporter_api_request_failures_total", { operation: "ListExecutors", error: "InvalidResponse" }) ?? 0) > 0,
      );
      assert.equal(valueOf(text, "athena_session_up", { session_id: sessionId }), 1, "the session itself is still served");
    });
  }
});
