import assert from "node:assert/strict";
import { get, type IncomingHttpHeaders } from "node:http";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { populate } from "../../bench/workload.js";
import { executorsListed, promtoolCheckMetrics, startStack, waitFor, type Stack } from "../helpers.js";
import { recordingProxy, startPrometheus, type RunningPrometheus } from "../prometheus-server.js";

/**
 * Issue #12's proof that scale holds on the wire: a real Prometheus (which
 * asks for gzip by default) scrapes 10,000 tracked calculations, 95% of them
 * finished, from the exporter backed by the simulator through the real SDK,
 * and ingests every series of the body. 100,000 takes minutes on a shared
 * machine, so it runs only with ATHENA_SCALE_100K=1 (README, Performance).
 */
const SIZES = [10_000, ...(process.env.ATHENA_SCALE_100K === "1" ? [100_000] : [])];

/** Samples in text exposition: every line that is neither empty nor a comment. */
const sampleCount = (text: string): number => text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;

/** One GET as Prometheus sends it, with the raw bytes as they came over the wire (fetch would decompress them). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

const AS_PROMETHEUS = { "Accept-Encoding": "gzip", "X-Prometheus-Scrape-Timeout-Seconds": "300" };

for (const n of SIZES) {
  describe(
    `a real Prometheus scraping ${n.toLocaleString("en")} calculations with gzip`,
    { timeout: n > 10_000 ? 900_000 : 120_000 },
    () => {
      let stack: Stack;
      let prometheus: RunningPrometheus;
      let proxy: Awaited<ReturnType<typeof recordingProxy>>;
      let body = "";
      const stops: (() => Promise<void>)[] = [];
      let gzipped: Awaited<ReturnType<typeof rawGet>>;

      before(async () => {
        // The simulator answers at once with no quota, and the exporter's limits
        // are high, so the cold start is bound by the SDK and this machine only.
        stack = await startStack((sim) => ({
          calculations: populate(sim, n),
          aws: { requestsPerSecond: 10_000, maxConcurrency: 64, requestTimeout: "30s" },
          extraYaml: `cache: {ttl: 30m, maxEntries: ${n}}\nscrape: {timeout: 10m}`,
        }));
        stops.push(() => stack.stop());
        const url = `${stack.server.url}/metrics`;
        // Until every calculation has been fetched and every session's executors listed once: no refresh is due during the test after that.
        await waitFor(
          async () => {
            const text = await stack.scrape({ "X-Prometheus-Scrape-Timeout-Seconds": "300" });
            return !text.includes('error="Pending"') && text.split("\nathena_calculation_up{").length - 1 === n && executorsListed(text);
          },
          n > 10_000 ? 600_000 : 90_000,
          `all ${n} calculations fetched`,
        );
        gzipped = await rawGet(url, AS_PROMETHEUS);
        body = await stack.scrape();
        proxy = await recordingProxy(new URL(stack.server.url).host);
        stops.push(() => proxy.stop());
        prometheus = await startPrometheus(proxy.target, "groups: []\n", {
          scrapeInterval: n > 10_000 ? "30s" : "5s",
          scrapeTimeout: n > 10_000 ? "30s" : "5s",
        });
        stops.push(() => prometheus.stop());
      });
      after(async () => {
        // What before() started, last first; a failed start leaves the rest out.
        for (const stop of stops.reverse()) await stop();
      });

      it("answers Prometheus's request with a gzip body that decompresses to the identity body's samples", () => {
        assert.equal(gzipped.status, 200);
        assert.equal(gzipped.headers["content-encoding"], "gzip");
        const text = gunzipSync(gzipped.bytes).toString("utf8");
        assert.equal(sampleCount(text), sampleCount(body));
        // Far smaller than the text: the point of the issue.
        assert.ok(gzipped.bytes.length * 10 < Buffer.byteLength(text), `${gzipped.bytes.length} bytes gzip for ${Buffer.byteLength(text)}`);
      });

      it("passes promtool check metrics once decompressed", () => {
        assert.equal(gzipped.headers["content-encoding"], "gzip");
        assert.equal(promtoolCheckMetrics(gunzipSync(gzipped.bytes).toString("utf8")), "");
      });

      it("is ingested whole: scrape_samples_scraped equals the samples of the uncompressed body, and every series is stored", async () => {
        const value = async (expr: string): Promise<number> => Number((await prometheus.query(expr)).result[0]?.value?.[1] ?? NaN);
        let seen = { scraped: NaN, stored: NaN, inBody: NaN };
        // process_* and nodejs_* series can appear between scrapes (a new GC kind),
        // so compare with bodies taken on either side of Prometheus's scrape.
        await waitFor(
          async () => {
            const before = sampleCount(await stack.scrape());
            const scraped = await value('scrape_samples_scraped{job="athena-calculation-exporter"}');
            const stored = await value('count({job="athena-calculation-exporter",__name__!~"up|scrape_.+"})');
            const afterwards = sampleCount(await stack.scrape());
            seen = { scraped, stored, inBody: before };
            return before === afterwards && scraped === before && stored === before;
          },
          n > 10_000 ? 300_000 : 60_000,
          "Prometheus to store every sample of the body",
        );
        assert.deepEqual(seen, { scraped: seen.inBody, stored: seen.inBody, inBody: seen.inBody });
        assert.equal(await value('count(athena_calculation_up{job="athena-calculation-exporter"} == 1)'), n);
        assert.equal(await value('up{job="athena-calculation-exporter"}'), 1);
      });

      it("was asked for gzip by Prometheus and answered it with gzip", () => {
        const scrapes = proxy.exchanges.filter((e) => e.status === 200);
        assert.ok(scrapes.length > 0, "Prometheus scraped through the proxy");
        for (const e of scrapes) {
          assert.match(String(e.requestHeaders["accept-encoding"]), /gzip/);
          assert.equal(e.responseHeaders["content-encoding"], "gzip");
        }
      });
    },
  );
}
