import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startServer } from "../../src/http/start-server.js";
import { parseFlags } from "../../src/cli/flags.js";
import { shardOf } from "../../src/shard.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { memoryLogger, samplesOf, testConfig, testDeps, valueOf, waitFor } from "../helpers.js";

describe("sharding", () => {
  it("hashes an ID to the same shard every time, case aside", () => {
    const id = "0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11";
    assert.equal(shardOf(id, 3), shardOf(id.toUpperCase(), 3));
    assert.equal(shardOf(id, 1), 0);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[shardOf(`id-${i}`, 3)] = (counts[shardOf(`id-${i}`, 3)] ?? 0) + 1;
    for (const c of counts) assert.ok(c > 800, `uneven split ${counts.join("/")}`);
  });

  it("refuses a shard outside --total-shards", () => {
    const parsed = parseFlags(["--shard=3", "--total-shards=3"]);
    assert.equal(parsed.ok ? "" : parsed.error, '--shard: "3" is not a whole number from 0 to 2 (--total-shards minus 1)');
  });

  it("puts each session, its calculations listed or discovered, and its DPU on one replica of three; summed, every counter is the truth", async () => {
    const simulator = new AthenaSimulator();
    const listed: string[] = [];
    const discovered: string[] = [];
    const sessions: string[] = [];
    const simSessions: { dpuExecutionMillis: number | undefined }[] = [];
    // Listed calculations spread over sessions whose IDs hash to every shard, in a workgroup not discovered.
    for (let s = 0; s < 6; s++) {
      const session = simulator.state.addSession("listed-wg", { state: "BUSY", dpuExecutionMillis: 40_000 });
      sessions.push(session.id);
      simSessions.push(session);
      for (let i = 0; i < 5; i++)
        listed.push(simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id);
    }
    for (let s = 0; s < 6; s++) {
      const session = simulator.state.addSession("found-wg", { state: "BUSY", dpuExecutionMillis: 40_000 });
      sessions.push(session.id);
      simSessions.push(session);
      for (let i = 0; i < 5; i++) discovered.push(simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
    }
    // One calculation both listed and discoverable must still be exported once.
    listed.push(discovered[0] ?? "");
    const endpoint = await simulator.start(0, "127.0.0.1");
    const config = testConfig(
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
        `calculations: [${listed.join(", ")}]\ndiscovery: {workgroups: [found-wg], interval: 1h}\ncache: {ttl: 1s}`,
    );
    const replicas = await Promise.all(
      [0, 1, 2].map((ordinal) =>
        startServer(config, { host: "127.0.0.1", port: 0 }, { deps: testDeps(memoryLogger().logger, { shard: { ordinal, total: 3 } }) }),
      ),
    );
    try {
      const all = [...new Set([...listed, ...discovered])];
      const ownerOf = (id: string): number => shardOf(simulator.state.calculations.get(id)?.sessionId ?? "", 3);
      let texts: string[] = [];
      await waitFor(
        async () => {
          texts = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
          const exported = texts.flatMap((t) => samplesOf(t, "athena_calculation_up").map((s) => s.labels.calculation_execution_id ?? ""));
          const up = texts.flatMap((t) => samplesOf(t, "athena_session_up").filter((s) => s.value === 1));
          return exported.length === all.length && new Set(exported).size === all.length && up.length === sessions.length;
        },
        10_000,
        "every calculation to be exported once, by the replica of its session, and every session fetched",
      );
      for (const [ordinal, text] of texts.entries()) {
        assert.equal(valueOf(text, "athena_exporter_shard_ordinal"), ordinal);
        assert.equal(valueOf(text, "athena_exporter_total_shards"), 3);
        for (const sample of samplesOf(text, "athena_calculation_up"))
          assert.equal(ownerOf(sample.labels.calculation_execution_id ?? ""), ordinal, "a calculation is shown where its session belongs");
        for (const sample of samplesOf(text, "athena_session_up"))
          assert.equal(shardOf(sample.labels.session_id ?? "", 3), ordinal, "a session is shown where its ID hashes");
      }
      const shownSessions = texts.flatMap((t) => samplesOf(t, "athena_session_up").map((s) => s.labels.session_id ?? ""));
      assert.deepEqual([...shownSessions].sort(), [...sessions].sort(), "every session shown once");
      // Each listed calculation is fetched at most once per replica (to learn its session), each discovered one once.
      assert.ok(simulator.calls("GetCalculationExecution") <= 3 * listed.length + discovered.length);
      for (const session of new Set(discovered.map((id) => simulator.state.calculations.get(id)?.sessionId ?? ""))) {
        assert.equal(simulator.calls("ListCalculationExecutions", session), 1, "each session listed by one replica only");
      }
      // Each session uses 40 more DPU-seconds while watched: summed, the DPU counters hold them once.
      for (const session of simSessions) session.dpuExecutionMillis = (session.dpuExecutionMillis ?? 0) + 40_000;
      await waitFor(
        async () => {
          texts = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
          const sum = (workgroup: string): number =>
            texts.reduce((n, t) => n + (valueOf(t, "athena_sessions_dpu_execution_seconds_total", { workgroup }) ?? 0), 0);
          return sum("listed-wg") === 6 * 40 && sum("found-wg") === 6 * 40;
        },
        10_000,
        "the DPU counters, summed over the replicas, to equal the sessions' DPU",
      );
      const completed = texts.reduce(
        (n, t) => n + (valueOf(t, "athena_calculations_finished_total", { workgroup: "listed-wg", state: "COMPLETED" }) ?? 0),
        0,
      );
      assert.equal(completed, 0, "calculations that finished before the exporter started are not counted on any replica");
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await simulator.stop();
    }
  });
});
