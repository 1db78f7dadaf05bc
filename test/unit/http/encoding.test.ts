import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import express from "express";
import { negotiateEncoding } from "../../../src/http/encoding.js";
import { ProcessMetrics } from "../../../src/self-metrics.js";
import { Targets } from "../../../src/targets.js";
import { createHttpApp } from "../../../src/http/app.js";
import { SINGLE_SHARD } from "../../../src/shard.js";
import { SYSTEM_CLOCK } from "../../../src/clock.js";
import { ok } from "../../../src/result.js";
import { memoryLogger, testConfig } from "../../helpers.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: fetch and supertest add an Accept-Encoding of their own. */
function get(url: string, headers: Record<string, string>, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

// What each Accept-Encoding asks for (RFC 9110 §12.5.3); undefined: 406.
const TABLE: readonly [header: string | undefined, expected: "gzip" | "identity" | undefined][] = [
  [undefined, "identity"],
  ["", "identity"],
  ["gzip", "gzip"],
  ["GZIP", "gzip"],
  ["identity", "identity"],
  ["*", "gzip"],
  ["gzip, deflate, br", "gzip"],
  ["deflate", "identity"],
  ["br;q=1, gzip;q=0.5", "gzip"],
  ["gzip;q=0", "identity"],
  ["gzip;q=0, identity;q=0.1", "identity"],
  ["identity;q=0.5, gzip;q=0.8", "gzip"],
  ["gzip;q=0.2, identity;q=0.9", "identity"],
  ["identity;q=0", undefined],
  ["gzip;q=0, identity;q=0", undefined],
  ["*;q=0", undefined],
  ["deflate, identity;q=0", undefined],
  ["*;q=0, gzip", "gzip"],
  ["identity;q=0, *", "gzip"],
];

describe("Accept-Encoding negotiation", () => {
  let url = "";
  let metricsUrl = "";
  let close: () => Promise<void> = () => Promise.resolve();

  before(async () => {
    const probe = express();
    probe.get("/", (req, res) => {
      res.json({ encoding: negotiateEncoding(req) ?? null });
    });
    const { logger } = memoryLogger();
    const processMetrics = new ProcessMetrics();
    const targets = new Targets(
      testConfig("calculations: []"),
      {
        logger,
        clock: SYSTEM_CLOCK,
        shard: SINGLE_SHARD,
        // No calculations: the HTTP side is under test here, the SDK side in the e2e tests.
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
    const servers = [probe, createHttpApp(targets, processMetrics, { logger })].map((app) => app.listen(0, "127.0.0.1"));
    await Promise.all(servers.map((s) => new Promise((r) => s.once("listening", r))));
    const [probeServer, exporterServer] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
    url = probeServer ?? "";
    metricsUrl = `${exporterServer ?? ""}metrics`;
    close = async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    };
  });
  after(() => close());

  for (const [header, expected] of TABLE) {
    const headers: Record<string, string> = header === undefined ? {} : { "Accept-Encoding": header };
    const name = header === undefined ? "no Accept-Encoding" : `Accept-Encoding: ${JSON.stringify(header)}`;

    it(`${name} chooses ${expected ?? "nothing (406)"}`, async () => {
      const res = await get(url, headers);
      assert.deepEqual(JSON.parse(res.body.toString("utf8")), { encoding: expected ?? null });
    });

    it(`/metrics with ${name} answers ${expected ?? "406"}, with Vary and a true Content-Length`, async () => {
      const res = await get(metricsUrl, headers);
      assert.equal(res.headers.vary, "Accept-Encoding");
      if (expected === undefined) {
        assert.equal(res.status, 406);
        assert.match(res.body.toString("utf8"), /no acceptable encoding: \/metrics answers in gzip or identity/);
        return;
      }
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
      assert.equal(res.headers["content-length"], String(res.body.length));
      assert.equal(res.headers["content-encoding"], expected === "gzip" ? "gzip" : undefined);
      const text = (expected === "gzip" ? gunzipSync(res.body) : res.body).toString("utf8");
      assert.match(text, /^athena_exporter_build_info\{/m);
    });
  }

  it("answers HEAD with the headers of GET and no body", async () => {
    for (const encoding of ["gzip", "identity"]) {
      const head = await get(metricsUrl, { "Accept-Encoding": encoding }, "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers.vary, "Accept-Encoding");
      assert.equal(head.headers["content-encoding"], encoding === "gzip" ? "gzip" : undefined);
      const length = Number(head.headers["content-length"]);
      const body = await get(metricsUrl, { "Accept-Encoding": encoding });
      // Self metrics move between two requests; the sizes stay close, never zero.
      assert.ok(
        length > 0 && Math.abs(length - body.body.length) < body.body.length / 4,
        `HEAD says ${length}, GET sends ${body.body.length}`,
      );
    }
  });
});
