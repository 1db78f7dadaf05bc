import assert from "node:assert/strict";
import { describe, it } from "node:test";
import request from "supertest";
import { emptyHttpApp } from "../../helpers.js";

const app = emptyHttpApp;

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
