/**
 * Golden exposition text, as kube-state-metrics keeps it: each case drives the
 * simulator, the real SDK and the exporter on a manual clock with fixed IDs,
 * and the athena_calculation_* families of /metrics must equal
 * test/golden/CASE.prom byte for byte. After a deliberate change of output,
 * `UPDATE_GOLDEN=1 npm run test:run` rewrites the files; review their diff.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { NewCalculation } from "../../simulator/model.js";
import type { AthenaSimulator } from "../../simulator/server.js";
import { promtoolCheckMetrics, stackFor, type Stack } from "../helpers.js";

const CALCULATION = "0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13";
const SESSION = "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01";
const WORKGROUP = "analytics-spark";
const T0 = 1_700_000_000_000;
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** The one calculation of a case, in session SESSION, with fields common to every case. */
function calculation(sim: AthenaSimulator, spec: Omit<NewCalculation, "id" | "sessionId">): string {
  sim.state.addSession(WORKGROUP, SESSION);
  return sim.state.addCalculation({
    id: CALCULATION,
    sessionId: SESSION,
    description: "train churn model",
    workingDirectory: "s3://bucket/sessions/5b1c3d4e/",
    submittedAtMs: T0 + 250,
    ...spec,
  }).id;
}

interface Clock {
  advance(ms: number): void;
}

interface GoldenCase {
  /** The file under test/golden/, without .prom. */
  readonly file: string;
  readonly name: string;
  readonly calculation: Omit<NewCalculation, "id" | "sessionId">;
  /** What happens before the scrape whose text is compared; the clock starts at T0 + 100 s. */
  readonly before?: (stack: Stack, clock: Clock) => Promise<void>;
  readonly headers?: Record<string, string>;
}

const CASES: readonly GoldenCase[] = [
  {
    file: "running",
    name: "a RUNNING calculation: duration up to now, progress, last refresh",
    calculation: { state: "RUNNING", dpuExecutionMillis: 61_500, progress: "Stage 1/4" },
  },
  {
    file: "settled",
    name: "a COMPLETED calculation with its statistics: settled, no refresh time",
    calculation: { state: "COMPLETED", completedAtMs: T0 + 42_750, dpuExecutionMillis: 123_456, resultType: "JSON" },
  },
  {
    file: "failed-with-reason",
    name: "a FAILED calculation with Athena's reason",
    calculation: {
      state: "FAILED",
      stateChangeReason: "Py4JJavaError: java.lang.OutOfMemoryError: Java heap space",
      completedAtMs: T0 + 42_750,
      dpuExecutionMillis: 123_456,
    },
  },
  {
    file: "failed-without-reason",
    name: "a FAILED calculation without a reason: no reason series",
    calculation: { state: "FAILED", completedAtMs: T0 + 42_750, dpuExecutionMillis: 123_456 },
  },
  {
    file: "finished-without-statistics",
    name: "a COMPLETED calculation Athena gives no DPU for yet: no DPU series, still refreshed",
    calculation: { state: "COMPLETED", completedAtMs: T0 + 42_750, statistics: false },
  },
  {
    file: "refresh-failing",
    name: "a failing refresh: up 0 with its error, the last values kept",
    calculation: { state: "RUNNING", dpuExecutionMillis: 7_000 },
    async before(stack, clock) {
      await stack.scrape();
      stack.simulator.injectFault({ kind: "InternalServerException", resourceId: CALCULATION });
      clock.advance(6_000); // past cache.ttl
    },
  },
  {
    file: "pending",
    name: "a calculation Athena has not answered for yet: up 0, Pending, nothing else",
    calculation: { state: "COMPLETED", dpuExecutionMillis: 1_000 },
    before(stack) {
      stack.simulator.injectFault({ kind: "delay", delayMs: 1_500, resourceId: CALCULATION, remaining: 1 });
      return Promise.resolve();
    },
    headers: { "X-Prometheus-Scrape-Timeout-Seconds": "1" },
  },
];

/** The athena_calculation_* families of an exposition, HELP and TYPE lines included. */
function calculationFamilies(text: string): string {
  const metricOf = (line: string): string => (line.startsWith("# ") ? (line.split(" ")[2] ?? "") : (/^[^{ ]+/.exec(line)?.[0] ?? ""));
  return text
    .split("\n")
    .filter((line) => metricOf(line).startsWith("athena_calculation_"))
    .map((line) => `${line}\n`)
    .join("");
}

describe("golden exposition of one calculation, through the simulator, the SDK and the exporter", () => {
  for (const c of CASES) {
    it(`${c.name} (test/golden/${c.file}.prom)`, async (t) => {
      let now = T0 + 100_000;
      const clock = { advance: (ms: number) => (now += ms) };
      const stack = await stackFor(t, (sim) => ({ calculations: [calculation(sim, c.calculation)], extraYaml: "cache: {ttl: 5s}" }), {
        now: () => now,
      });
      await c.before?.(stack, clock);
      const got = calculationFamilies(await stack.scrape(c.headers));
      const path = new URL(`../golden/${c.file}.prom`, import.meta.url);
      if (UPDATE) await writeFile(path, got);
      const golden = await readFile(path, "utf8");
      assert.equal(got, golden);
      assert.equal(promtoolCheckMetrics(golden), "");
    });
  }
});
