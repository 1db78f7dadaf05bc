import assert from "node:assert/strict";
import { describe, it } from "node:test";
import request from "supertest";
import { ProcessMetrics } from "../../../src/self-metrics.js";
import { Targets } from "../../../src/targets.js";
import { createHttpApp } from "../../../src/http/app.js";
import { SINGLE_SHARD } from "../../../src/shard.js";
import { SYSTEM_CLOCK } from "../../../src/clock.js";
import { memoryLogger, testConfig } from "../../helpers.js";
import { ok } from "../../../src/result.js";

// The HTTP surface alone; the Athena side is a stub that never fails, since
// these tests are about routes, methods and headers (target.test.ts covers
// the real SDK against the simulator).
function app(): ReturnType<typeof createHttpApp> {
  const { logger } = memoryLogger();
  const processMetrics = new ProcessMetrics();
  const targets = new Targets(
    testConfig("calculations: []"),
    {
      logger,
      clock: SYSTEM_CLOCK,
      shard: SINGLE_SHARD,
      // A double through the one door every Athena API comes in by.
      athenaApis: () => ({
        getCalculation: () => Promise.reject(new Error("not used")),
        getSession: () => Promise.reject(new Error("not used")),
        getWorkGroup: () => Promise.reject(new Error("not used")),
        listWorkGroupTags: () => Promise.reject(new Error("not used")),
        listWorkGroups: () => Promise.resolve(ok([])),
        listSessions: () => Promise.resolve(ok([])),
        listCalculations: () => Promise.resolve(ok([])),
      }),
    },
    processMetrics,
  );
  return createHttpApp(targets, processMetrics, { logger });
}

describe("HTTP server", () => {
  it("serves a landing page that links to /metrics", async () => {
    const res = await request(app()).get("/").expect(200);
    assert.match(res.headers["content-type"] ?? "", /^text\/html/);
    assert.match(res.text, /<a href="\/metrics">/);
  });

  it("serves /metrics in the text exposition format", async () => {
    const res = await request(app()).get("/metrics").expect(200);
    assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert.match(res.text, /^athena_exporter_build_info\{/m);
  });

  it("answers health and readiness probes", async () => {
    await request(app()).get("/-/healthy").expect(200, "Healthy.\n");
    await request(app()).get("/-/ready").expect(200, "Ready.\n");
  });

  it("answers 404 for an unknown path", async () => {
    const res = await request(app()).get("/metricz").expect(404);
    assert.match(res.text, /404 page not found: \/metricz/);
  });

  it("answers 405 with Allow for a wrong method", async () => {
    const res = await request(app()).post("/metrics").send("x").expect(405);
    assert.equal(res.headers.allow, "GET, HEAD");
  });

  it("does not announce its framework", async () => {
    const res = await request(app()).get("/-/healthy");
    assert.equal(res.headers["x-powered-by"], undefined);
  });
});
