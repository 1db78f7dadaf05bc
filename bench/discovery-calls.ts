import { sdkAthenaApis } from "../src/athena/client.js";
import { parseConfig } from "../src/config/config.js";
import { FAMILY_NAMES } from "../src/catalog/family-filter.js";
import { TargetMetrics } from "../src/self/metrics.js";
import { listOnce, type Known } from "../src/discovery/list-once.js";
import { DiscoveryMemory } from "../src/discovery/memory.js";
import { AthenaSimulator } from "../simulator/server.js";

const SESSIONS = 5;
const PER_SESSION = 1000;
const LATER_RUNS = 5;
const NOTHING_KNOWN: Known = { sessions: new Map(), listedSince: new Map(), workgroups: [] };

/**
 * List calls per discovery run against sessions of 1,000 calculations each
 * (95% finished, a new one submitted between runs), through the real SDK:
 * ours, which remembers what earlier runs saw, against a listing that
 * re-reads every session's history on every run.
 */
export async function discoveryCalls(): Promise<string> {
  const simulator = new AthenaSimulator();
  const now = Date.now();
  const sessions: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const session = simulator.state.addSession("bench-wg", { state: "BUSY", startedAtMs: now - 20 * 3_600_000 });
    sessions.push(session.id);
    for (let i = 0; i < PER_SESSION; i++) {
      const submittedAtMs = now - 19 * 3_600_000 + i * 60_000;
      const finished = i < PER_SESSION * 0.95;
      simulator.state.addCalculation({
        sessionId: session.id,
        state: finished ? "COMPLETED" : "RUNNING",
        submittedAtMs,
        ...(finished ? { completedAtMs: submittedAtMs + 30_000, dpuExecutionMillis: 1000 } : {}),
      });
    }
  }
  const endpoint = await simulator.start(0, "127.0.0.1");
  try {
    const parsed = parseConfig(
      `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 1000, listRequestsPerSecond: 1000}`,
      "bench",
      FAMILY_NAMES,
    );
    if (!parsed.ok) throw new Error(parsed.error.problems.join("; "));
    const api = sdkAthenaApis({ accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" })(parsed.value.aws, new TargetMetrics().api);
    const settings = () => ({
      workgroups: ["bench-wg"],
      workgroupTags: [],
      lookbackSeconds: 86_400,
      owns: () => true,
      nowSeconds: Date.now() / 1000,
    });
    const retention = { workgroups: ["bench-wg"], retentionSeconds: 6 * 3600 };
    const calls = (): number => simulator.calls("ListCalculationExecutions");
    const memory = new DiscoveryMemory();
    const runs = async (known: () => Known): Promise<{ first: number; later: number }> => {
      let before = calls();
      const first = await listOnce(api, settings(), known(), AbortSignal.timeout(60_000));
      memory.apply(first, Date.now() / 1000, retention);
      const firstCalls = calls() - before;
      before = calls();
      for (let r = 0; r < LATER_RUNS; r++) {
        for (const session of sessions) simulator.state.addCalculation({ sessionId: session, state: "RUNNING" });
        memory.apply(await listOnce(api, settings(), known(), AbortSignal.timeout(60_000)), Date.now() / 1000, retention);
      }
      return { first: firstCalls, later: (calls() - before) / LATER_RUNS };
    };
    const ours = await runs(() => memory.known());
    const rereading = await runs(() => NOTHING_KNOWN);
    return [
      `ListCalculationExecutions calls per discovery run, ${SESSIONS} sessions of ${PER_SESSION} calculations (95% finished):`,
      `| | first run | each later run | per session, later |`,
      `| --- | ---: | ---: | ---: |`,
      `| ours (incremental) | ${ours.first} | ${ours.later.toFixed(1)} | ${(ours.later / SESSIONS).toFixed(2)} |`,
      `| re-reading every history | ${rereading.first} | ${rereading.later.toFixed(1)} | ${(rereading.later / SESSIONS).toFixed(2)} |`,
      `| ratio, later runs | | ${(ours.later / rereading.later).toFixed(3)}x | |`,
    ].join("\n");
  } finally {
    await simulator.stop();
  }
}
