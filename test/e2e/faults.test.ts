import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FaultKind } from "../../simulator/faults.js";
import { parseExposition, promtoolCheckMetrics, samplesOf, startStack, valueOf } from "../helpers.js";

const T0 = 1_700_000_000_000;

interface Case {
  readonly fault: FaultKind;
  readonly error: string;
  readonly what: string;
  readonly delayMs?: number;
}

// One row per fault the exporter must ride out.
const CASES: readonly Case[] = [
  { fault: "ThrottlingException", error: "ThrottlingException", what: "throttling" },
  { fault: "InternalServerException", error: "InternalServerException", what: "HTTP 500s" },
  { fault: "delay", delayMs: 1500, error: "Timeout", what: "answers slower than the SDK's request timeout" },
  { fault: "connection-reset", error: "NetworkError", what: "connection resets" },
  { fault: "malformed-json", error: "InvalidResponse", what: "malformed JSON" },
  { fault: "truncated-json", error: "InvalidResponse", what: "truncated JSON" },
  { fault: "unknown-state", error: "InvalidResponse", what: "an unknown state in the answer" },
  { fault: "missing-fields", error: "InvalidResponse", what: "missing fields in the answer" },
  { fault: "ResourceNotFoundException", error: "ResourceNotFoundException", what: "ResourceNotFound for an ID that existed" },
  { fault: "ExpiredTokenException", error: "ExpiredCredentials", what: "an expired credential" },
];

describe("Athena faults, injected at the simulator", () => {
  for (const c of CASES) {
    it(`rides out ${c.what}: keeps serving the last good values marked down, counts and logs it once, recovers`, async () => {
      let clock = T0;
      let victim = "";
      let healthy = "";
      const stack = await startStack(
        (sim) => {
          const session = sim.state.addSession("wg");
          victim = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0, dpuExecutionMillis: 7000 }).id;
          healthy = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0 }).id;
          return { calculations: [victim, healthy], extraYaml: "cache: {ttl: 10s}", aws: { requestTimeout: "500ms" } };
        },
        { now: () => clock },
      );
      try {
        await stack.scrape();
        stack.simulator.injectFault({ kind: c.fault, resourceId: victim, ...(c.delayMs === undefined ? {} : { delayMs: c.delayMs }) });
        for (let i = 0; i < 3; i++) {
          clock += 11_000;
          const res = await fetch(`${stack.server.url}/metrics`);
          assert.equal(res.status, 200);
          const text = await res.text();
          parseExposition(text);
          if (i === 0) assert.equal(promtoolCheckMetrics(text), "");
          assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: victim }), 0);
          assert.equal(
            valueOf(text, "athena_calculation_refresh_error_info", { calculation_execution_id: victim, error: c.error }),
            1,
            `scrape ${i}: ${JSON.stringify(samplesOf(text, "athena_calculation_refresh_error_info"))}`,
          );
          assert.equal(
            valueOf(text, "athena_calculation_state", { calculation_execution_id: victim, state: "RUNNING" }),
            1,
            "last good state kept",
          );
          assert.equal(
            valueOf(text, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: victim }),
            7,
            "last good DPU kept",
          );
          assert.equal(
            valueOf(text, "athena_calculation_last_refresh_timestamp_seconds", { calculation_execution_id: victim }),
            T0 / 1000,
            "staleness shows",
          );
          assert.equal(
            valueOf(text, "athena_calculation_up", { calculation_execution_id: healthy }),
            1,
            `the other calculation is unaffected: ${JSON.stringify(stack.logs().filter((l) => l.calculation_execution_id === healthy))}`,
          );
          assert.ok(
            (valueOf(text, "athena_exporter_api_request_failures_total", { operation: "GetCalculationExecution", error: c.error }) ?? 0) >=
              i + 1,
            "the fault is counted",
          );
        }
        const logged = stack.logs().filter((l) => l.msg === "calculation refresh failed" && l.calculation_execution_id === victim);
        assert.equal(logged.length, 1, "logged once per change, not per scrape");
        assert.equal(logged[0]?.error, c.error);

        stack.simulator.faults.clear();
        await new Promise((r) => setTimeout(r, c.delayMs ?? 0)); // let a held answer drain
        clock += 11_000;
        const healed = await stack.scrape();
        assert.equal(valueOf(healed, "athena_calculation_up", { calculation_execution_id: victim }), 1);
        assert.equal(parseExposition(healed).filter((s) => s.name === "athena_calculation_refresh_error_info").length, 0);
        assert.ok(stack.logs().some((l) => l.msg === "calculation refresh recovered" && l.calculation_execution_id === victim));
      } finally {
        await stack.stop();
      }
    });
  }
});
