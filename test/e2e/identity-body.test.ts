import assert from "node:assert/strict";
import { get } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { populate } from "../../bench/workload.js";
import { promtoolCheckMetrics, startStack, waitFor, type Stack } from "../helpers.js";

/**
 * Settled text is kept compressed and inflated piece by piece as the
 * socket takes it: whatever pace a client reads at, it gets the whole body,
 * and one that leaves halfway costs nothing but the pieces already sent.
 */
const N = 3000;
const LONG = { "X-Prometheus-Scrape-Timeout-Seconds": "120" };

/** The raw body of one GET, read `pauseMs` apart per chunk the socket delivers, or abandoned after `abandonAfter` bytes. */
function slowGet(url: string, pauseMs: number, abandonAfter = Infinity, encoding = "identity"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { ...LONG, "Accept-Encoding": encoding } }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes >= abandonAfter) {
          res.destroy();
          resolve(Buffer.concat(chunks));
          return;
        }
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", reject);
    }).on("error", reject);
  });
}

describe("identity scrapes of settled text kept compressed", { timeout: 120_000 }, () => {
  let stack: Stack;
  let url = "";

  before(async () => {
    stack = await startStack((sim) => ({
      calculations: populate(sim, N),
      aws: { requestsPerSecond: 10_000, maxConcurrency: 64 },
      extraYaml: `cache: {ttl: 30m, maxEntries: ${N}}`,
    }));
    url = `${stack.server.url}/metrics`;
    await waitFor(
      async () => (await stack.scrape(LONG)).split("\nathena_calculation_up{").length - 1 === N,
      60_000,
      "every calculation fetched",
    );
    // Full chunks are compressed in the background after they fill; give them a moment, so that the scrapes below inflate them.
    await sleep(500);
  });
  after(() => stack.stop());

  it("sends a slow reader the same text as a fast one and as the gzip scrape", async () => {
    const fast = await stack.scrape({ ...LONG, "Accept-Encoding": "identity" });
    assert.ok(Buffer.byteLength(fast) > 4 * 1024 * 1024, `${Buffer.byteLength(fast)} bytes: more than a socket holds`);
    const slow = (await slowGet(url, 5)).toString("utf8");
    const decoded = gunzipSync(await slowGet(url, 0, Infinity, "gzip")).toString("utf8");
    // Per-calculation lines, but those that move with the clock (an unfinished calculation's duration) or a refresh.
    const settled = (text: string): string[] =>
      text
        .split("\n")
        .filter((line) => line.startsWith("athena_calculation_") && !/^athena_calculation_(duration|last_refresh)/.test(line));
    assert.deepEqual(settled(slow), settled(fast));
    assert.deepEqual(settled(decoded), settled(fast));
    assert.equal(promtoolCheckMetrics(slow), "");
  });

  it("keeps serving after clients leave halfway through the body", async () => {
    const partial = await Promise.all(Array.from({ length: 4 }, () => slowGet(url, 1, 256 * 1024)));
    for (const body of partial) assert.ok(body.length >= 256 * 1024);
    const after = await stack.scrape({ ...LONG, "Accept-Encoding": "identity" });
    assert.equal(after.split("\nathena_calculation_up{").length - 1, N);
    assert.deepEqual(
      stack.logs().filter((line) => typeof line.level === "number" && line.level >= 50),
      [],
      "nothing is logged as an error",
    );
  });
});
