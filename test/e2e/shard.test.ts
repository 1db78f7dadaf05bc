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

  it("splits listed and discovered calculations across three replicas: each exported once, each fetched once", async () => {
    const simulator = new AthenaSimulator();
    const listed: string[] = [];
    const discovered: string[] = [];
    const other = simulator.state.addSession("listed-wg");
    for (let i = 0; i < 30; i++)
      listed.push(simulator.state.addCalculation({ sessionId: other.id, state: "COMPLETED", dpuExecutionMillis: 1 }).id);
    for (let s = 0; s < 6; s++) {
      const session = simulator.state.addSession("found-wg");
      for (let i = 0; i < 5; i++) discovered.push(simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
    }
    // One calculation both listed and discoverable must still be exported once.
    listed.push(discovered[0] ?? "");
    const endpoint = await simulator.start(0, "127.0.0.1");
    const config = testConfig(
      `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}\n` +
        `calculations: [${listed.join(", ")}]\ndiscovery: {workgroups: [found-wg], interval: 1h}`,
    );
    const replicas = await Promise.all(
      [0, 1, 2].map((ordinal) =>
        startServer(config, { host: "127.0.0.1", port: 0 }, { deps: testDeps(memoryLogger().logger, { shard: { ordinal, total: 3 } }) }),
      ),
    );
    try {
      const all = [...new Set([...listed, ...discovered])];
      let texts: string[] = [];
      await waitFor(
        async () => {
          texts = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
          return texts.reduce((n, t) => n + samplesOf(t, "athena_calculation_up").length, 0) >= all.length;
        },
        10_000,
        "every calculation to be exported",
      );
      const exported = texts.flatMap((t) => samplesOf(t, "athena_calculation_up").map((s) => s.labels.calculation_execution_id ?? ""));
      assert.equal(exported.length, all.length, "no calculation is exported twice");
      assert.deepEqual([...exported].sort(), [...all].sort());
      for (const [ordinal, text] of texts.entries()) {
        assert.equal(valueOf(text, "athena_exporter_shard_ordinal"), ordinal);
        assert.equal(valueOf(text, "athena_exporter_total_shards"), 3);
        assert.ok(samplesOf(text, "athena_calculation_up").length > 0, `replica ${ordinal} has no work`);
      }
      assert.equal(simulator.calls("GetCalculationExecution"), all.length, "each calculation fetched by one replica only");
      for (const session of new Set(discovered.map((id) => simulator.state.calculations.get(id)?.sessionId ?? ""))) {
        assert.equal(simulator.calls("ListCalculationExecutions", session), 1, "each session listed by one replica only");
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await simulator.stop();
    }
  });
});
