import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { executorsListed, parseExposition, rawRequest, stackFor, waitFor } from "../helpers.js";
import { startPrometheus } from "../prometheus-server.js";

const get = rawRequest;

// The exporter's own metrics and the process's move from one scrape to the next; the rest must not.
const MOVING = /^(# (HELP|TYPE) )?(athena_exporter_|process_|nodejs_)/;
const steady = (text: string): string =>
  text
    .split("\n")
    .filter((line) => !MOVING.test(line))
    .join("\n");

const T0 = Date.parse("2026-03-01T12:00:00Z");

describe("gzip scrapes through the real SDK and a real Prometheus", () => {
  it("a gzip scrape decodes to the identity scrape, and Prometheus ingests every sample of it", async (t) => {
    // A clock that stands still: nothing is due between two scrapes, so the two bodies can be compared.
    const stack = await stackFor(
      t,
      (simulator) => {
        const session = simulator.state.addSession("analytics-spark", { startedAtMs: T0 - 3_600_000 });
        const ids = Array.from(
          { length: 300 },
          (_, i) =>
            simulator.state.addCalculation({
              sessionId: session.id,
              state: i % 20 === 0 ? "RUNNING" : i % 7 === 0 ? "FAILED" : "COMPLETED",
              description: `nightly report ${i % 12}`,
              submittedAtMs: T0 - 600_000 + i * 1000,
              ...(i % 20 === 0 ? {} : { completedAtMs: T0 - 300_000 + i * 500 }),
              dpuExecutionMillis: 1000 * i,
            }).id,
        );
        return { calculations: ids, extraYaml: "cache: {ttl: 1h}" };
      },
      { now: () => T0 },
    );
    await waitFor(async () => executorsListed(await stack.scrape()), 10_000, "the session's executors listed");
    const url = `${stack.server.url}/metrics`;
    const identity = await get(url, { "Accept-Encoding": "identity" });
    const gzip = await get(url, { "Accept-Encoding": "gzip" });
    assert.equal(identity.status, 200);
    assert.equal(gzip.status, 200);
    assert.equal(identity.headers["content-encoding"], undefined);
    assert.equal(gzip.headers["content-encoding"], "gzip");
    assert.equal(gzip.headers["content-length"], String(gzip.body.length));
    assert.ok(gzip.body.length * 5 < identity.body.length, `gzip ${gzip.body.length} B against identity ${identity.body.length} B`);
    const identityText = identity.body.toString("utf8");
    const decoded = gunzipSync(gzip.body).toString("utf8");
    assert.equal(parseExposition(identityText).filter((s) => s.name === "athena_calculation_up").length, 300);
    assert.equal(steady(decoded), steady(identityText));

    // Prometheus asks for gzip (its scraper's default); a proxy shows what it was sent.
    const encodings: string[] = [];
    // The body Prometheus was last sent: its own sample count is the one scrape_samples_scraped must equal
    // (a body fetched separately can differ by a sample, such as a GC kind first seen in between).
    let sent = Buffer.alloc(0);
    const proxy = createServer((req, res) => {
      const upstream = request(`${stack.server.url}${req.url ?? "/"}`, { method: req.method, headers: req.headers }, (answer) => {
        encodings.push(answer.headers["content-encoding"] ?? "identity");
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => (sent = Buffer.concat(chunks)));
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise((resolve) => proxy.close(resolve)));
    const prometheus = await startPrometheus(`127.0.0.1:${(proxy.address() as AddressInfo).port}`, "groups: []\n");
    t.after(() => prometheus.stop());
    let last = "";
    await waitFor(
      async () => {
        const up = (await prometheus.query("up")).result[0]?.value?.[1];
        const scraped = (await prometheus.query("scrape_samples_scraped")).result[0]?.value?.[1];
        const expected = sent.length === 0 ? -1 : parseExposition(gunzipSync(sent).toString("utf8")).length;
        last = `up ${up}, scrape_samples_scraped ${scraped}, body sent ${expected} samples`;
        return up === "1" && Number(scraped) === expected;
      },
      30_000,
      "Prometheus to ingest the gzip body",
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${last}`);
    });
    assert.ok(encodings.length > 0 && encodings.every((e) => e === "gzip"), `Prometheus was sent ${encodings.join(", ")}`);
  });
});
