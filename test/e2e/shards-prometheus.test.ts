import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { startServer } from "../../src/http/start-server.js";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shardOf } from "../../src/shard.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, testConfig, testDeps, waitFor } from "../helpers.js";
import { startPrometheus, type RunningPrometheus } from "../prometheus-server.js";

async function scalar(prometheus: RunningPrometheus, expr: string): Promise<number> {
  const answer = await prometheus.query(expr);
  const value = answer.result[0]?.value?.[1];
  return value === undefined ? 0 : Number(value);
}

/** A session ID that hashes to `shard`: every replica gets work, whatever the random IDs. */
function idOnShard(shard: number, total: number): string {
  for (;;) {
    const id = randomUUID();
    if (shardOf(id, total) === shard) return id;
  }
}

async function replicasUnderPrometheus(t: TestContext, total: number): Promise<void> {
  const simulator = new AthenaSimulator();
  const sessions: { id: string; dpuExecutionMillis: number | undefined }[] = [];
  const running: string[] = [];
  const listed: string[] = [];
  for (let s = 0; s < 6; s++) {
    const session = simulator.state.addSession("wg", { id: idOnShard(s % total, total), state: "BUSY", dpuExecutionMillis: 1000 });
    sessions.push(session);
    for (let i = 0; i < 2; i++) running.push(simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
  }
  for (let s = 0; s < 4; s++) {
    const session = simulator.state.addSession("listed-wg", { id: idOnShard(s % total, total), state: "BUSY", dpuExecutionMillis: 1000 });
    sessions.push(session);
    const id = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
    listed.push(id);
    running.push(id);
  }
  const endpoint = await simulator.start(0, "127.0.0.1");
  t.after(() => simulator.stop());
  const yaml = (workgroups: string): string =>
    `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
    `calculations: [${listed.join(", ")}]\ndiscovery: {workgroups: [${workgroups}], interval: 300ms}\ncache: {ttl: 1s}\n`;
  const dir = await mkdtemp(join(tmpdir(), "ace-shards-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "config.yaml");
  await writeFile(file, yaml("wg"));
  const replicas = await Promise.all(
    Array.from({ length: total }, (_, ordinal) =>
      startServer(
        testConfig(yaml("wg")),
        { host: "127.0.0.1", port: 0 },
        { deps: testDeps(memoryLogger().logger, { shard: { ordinal, total } }), configSource: fileSource(file) },
      ),
    ),
  );
  t.after(() => Promise.all(replicas.map((r) => r.close())));
  const prometheus = await startPrometheus(
    {
      scrapeConfigs: [{ job_name: "athena", static_configs: [{ targets: replicas.map((r) => new URL(r.url).host) }] }],
    },
    "groups: []\n",
  );
  t.after(() => prometheus.stop());

  await waitFor(
    async () => (await scalar(prometheus, "count(athena_calculation_up)")) === running.length,
    20_000,
    "every calculation scraped",
  );

  // While the replicas watch: every running calculation finishes, every session uses 10 more DPU-seconds,
  // and three batch sessions start, run one calculation each and end between two discovery runs.
  running.forEach((id, i) => simulator.state.setState(id, i % 2 === 0 ? "COMPLETED" : "FAILED"));
  for (const session of sessions) session.dpuExecutionMillis = (session.dpuExecutionMillis ?? 0) + 10_000;
  for (let s = 0; s < 3; s++) {
    const batch = simulator.state.addSession("wg", { state: "BUSY", dpuExecutionMillis: 5000 });
    simulator.state.addCalculation({ sessionId: batch.id, state: "COMPLETED", dpuExecutionMillis: 1000 });
    simulator.state.terminateSession(batch.id);
  }
  const truth = {
    completed: running.filter((_, i) => i % 2 === 0).length + 3,
    failed: running.filter((_, i) => i % 2 === 1).length,
    completedObserved: running.filter((_, i) => i % 2 === 0).length + 3,
    failedObserved: running.filter((_, i) => i % 2 === 1).length,
    dpuObserved: running.length + 3,
    dpu: { wg: 6 * 10 + 3 * 5, "listed-wg": 4 * 10 },
  };

  const summed = async (): Promise<string> =>
    JSON.stringify({
      completed: await scalar(prometheus, 'sum(athena_calculations_finished_total{state="COMPLETED"})'),
      failed: await scalar(prometheus, 'sum(athena_calculations_finished_total{state="FAILED"})'),
      // The histograms are fed by the counters' rule: their counts sum to the same truth.
      completedObserved: await scalar(prometheus, 'sum(athena_calculations_finished_duration_seconds_count{state="COMPLETED"})'),
      failedObserved: await scalar(prometheus, 'sum(athena_calculations_finished_duration_seconds_bucket{state="FAILED",le="+Inf"})'),
      dpuObserved: await scalar(prometheus, "sum(athena_calculations_finished_dpu_execution_seconds_count)"),
      dpu: {
        wg: await scalar(prometheus, 'sum(athena_sessions_dpu_execution_seconds_total{workgroup="wg"})'),
        "listed-wg": await scalar(prometheus, 'sum(athena_sessions_dpu_execution_seconds_total{workgroup="listed-wg"})'),
      },
    });
  let last = "";
  await waitFor(
    async () => {
      last = await summed();
      return last === JSON.stringify(truth);
    },
    20_000,
    `the counters summed over ${total} replicas to equal the truth ${JSON.stringify(truth)}`,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last seen ${last}`);
  });

  for (const family of ["athena_calculation_up", "athena_session_up", "athena_calculation_state"]) {
    const twice = await prometheus.query(`count by (calculation_execution_id, session_id, state) (${family}) > 1`);
    assert.deepEqual(twice.result, [], `${family}: every series on one replica only`);
  }
  assert.equal(await scalar(prometheus, "count(athena_session_up)"), sessions.length + 3, "every session, the short ones too, shown once");
  assert.equal(await scalar(prometheus, "count(count by (instance) (athena_calculation_up))"), total, "every replica has work");

  // A reload that adds a workgroup whose session used 10 DPU-seconds and finished two calculations before it:
  // summed over the replicas, its counters start at 0 and count only what comes after.
  const late = simulator.state.addSession("late", { id: idOnShard(0, total), state: "BUSY", dpuExecutionMillis: 10_000 });
  for (let i = 0; i < 2; i++) simulator.state.addCalculation({ sessionId: late.id, state: "COMPLETED", dpuExecutionMillis: 1000 });
  const next = simulator.state.addCalculation({ sessionId: late.id, state: "RUNNING" }).id;
  await new Promise((resolve) => setTimeout(resolve, 50));
  await writeFile(file, yaml("wg, late"));
  for (const replica of replicas) assert.equal((await fetch(`${replica.url}/-/reload`, { method: "POST" })).status, 200);
  await waitFor(
    async () => (await scalar(prometheus, 'count(athena_calculation_state{workgroup="late",state="COMPLETED"})')) === 3,
    20_000,
    "the added workgroup's calculations scraped",
  );
  late.dpuExecutionMillis = 15_000;
  simulator.state.setState(next, "COMPLETED");
  await waitFor(
    async () => (await scalar(prometheus, 'sum(athena_calculations_finished_total{workgroup="late",state="COMPLETED"})')) === 1,
    20_000,
    "the finish after the reload to count, once",
  );
  await waitFor(
    async () => (await scalar(prometheus, 'sum(athena_sessions_dpu_execution_seconds_total{workgroup="late"})')) === 5,
    20_000,
    "only the 5 DPU-seconds used after the reload to count",
  );
  // A scrape later, nothing more: the two finishes and 10 DPU-seconds before the reload never come in.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(await scalar(prometheus, 'sum(athena_calculations_finished_total{workgroup="late",state="COMPLETED"})'), 1);
  assert.equal(await scalar(prometheus, 'sum(athena_calculations_finished_duration_seconds_count{workgroup="late",state="COMPLETED"})'), 1);
  assert.equal(await scalar(prometheus, 'sum(athena_sessions_dpu_execution_seconds_total{workgroup="late"})'), 5);
}

describe("shards scraped by a real Prometheus", () => {
  it("with 2 replicas, every series appears once and every counter summed equals the truth, through a reload", (t) =>
    replicasUnderPrometheus(t, 2));
  it("with 3 replicas, every series appears once and every counter summed equals the truth, through a reload", (t) =>
    replicasUnderPrometheus(t, 3));
});
