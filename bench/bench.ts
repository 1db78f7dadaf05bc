/**
 * npm run bench [-- --sizes=1000,10000] (or BENCH_SIZES=1000,10000)
 *
 * Measures the exporter (built, in a child process, through the real SDK)
 * against the Athena simulator with per-call latency and a request quota,
 * beside baselines run in the same session: a static server sending the
 * identical body from memory (the floor for scrape latency), and a naive
 * prom-client exporter that calls GetCalculationExecution for every ID on
 * every scrape (the baseline for API calls and memory). The static
 * servers run in a child process, as the exporter does. With
 * `Accept-Encoding: gzip`: a static server sending the body compressed once
 * beforehand (the floor), one compressing it on every request (the peer:
 * prom-client behind compression middleware), a one-shot gzip of the text
 * (the size to meet), and a real Prometheus scraping the exporter and the
 * floor side by side (scrape_duration_seconds as Prometheus sees it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { AthenaClient } from "@aws-sdk/client-athena";
import { pino } from "pino";
import { parseConfig } from "../src/config/config.js";
import { FAMILY_NAMES } from "../src/catalog/family-filter.js";
import { sdkAthenaApis } from "../src/athena/client.js";
import { SYSTEM_CLOCK } from "../src/clock.js";
import { SINGLE_SHARD } from "../src/shard.js";
import { Target } from "../src/target.js";
import { AthenaSimulator } from "../simulator/server.js";
import { precompressedServer, rawGet, startBaselines, type RawAnswer } from "./gzip-baselines.js";
import { NaiveExporter } from "./naive-exporter.js";
import { prometheusView, type PrometheusView } from "./prometheus-scrapes.js";
import { populate, UNFINISHED_SHARE } from "./workload.js";
import { discoveryCalls } from "./discovery-calls.js";
import { peakRss } from "./peak-rss.js";
import { CONCURRENCY, CREDENTIALS, LIST_RATE, RATE, startExporterProcess, TTL_S } from "./exporter-process.js";

/** Peak RSS (VmHWM) of the serving process per size, printed after the main table. */
const peaks: { n: number; bytes: number }[] = [];

const LATENCY: [number, number] = [30, 80];
const QUOTA = 1000; // simulated Athena requests/s
/** Fewer at 100,000, where 20 scrapes of 250 MiB outlast cache.ttl. */
const warmScrapes = (n: number): number => (n >= 100_000 ? 10 : 20);
/** Gzip scrapes of ours and of the floors, in turn: more where a scrape takes milliseconds, for a steadier p50. */
const gzipScrapes = (n: number): number => (n >= 100_000 ? 10 : 60);
/** Scrapes a real Prometheus takes of each target, and its interval (and timeout) by size. */
const prometheusScrapes = (n: number): number => (n >= 100_000 ? 3 : 5);
const prometheusInterval = (n: number): number => (n >= 100_000 ? 60 : n >= 10_000 ? 5 : 2);
// The naive baseline and the in-process exporter sign with these too.
Object.assign(process.env, CREDENTIALS);

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: process.env.BENCH_SIZES ?? "1000,10000,100000" },
    "naive-max": { type: "string", default: "10000" },
    // Until the exporter answers gzip, the gzip columns would measure identity: refuse unless asked.
    "allow-identity": { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
const bad = sizes.filter((n) => !Number.isInteger(n) || n < 1);
if (bad.length > 0) throw new Error(`--sizes (or BENCH_SIZES) wants positive whole numbers separated by commas, not ${values.sizes}`);
const naiveMax = Number(values["naive-max"]);

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/**
 * An uncompressed GET timed to its last byte. It asks for identity in so
 * many words: fetch() would send Accept-Encoding: gzip on its own, which
 * the exporter honours and a static server ignores, so the identity
 * columns would time the exporter's gzip and the client's gunzip against
 * plain bytes (they did, until 2026-11-26).
 */
async function timedGet(url: string, headers: Record<string, string> = {}): Promise<{ ms: number; body: string }> {
  const answer = await rawGet(url, { ...headers, "Accept-Encoding": "identity" });
  if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}`);
  if (answer.contentEncoding !== undefined) throw new Error(`${url} answered identity with Content-Encoding ${answer.contentEncoding}`);
  return { ms: answer.ms, body: answer.bytes.toString("utf8") };
}

function metric(body: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(body);
  return Number(m?.[1] ?? NaN);
}

const GZIP = { "Accept-Encoding": "gzip" };

/** The exporter's answer to a gzip request, refused when it is not gzip (unless --allow-identity). */
function expectGzip(answer: RawAnswer, what: string): RawAnswer {
  if (answer.status !== 200) throw new Error(`${what} answered ${answer.status}`);
  if (answer.contentEncoding !== "gzip" && !values["allow-identity"]) {
    throw new Error(`${what} answered Accept-Encoding: gzip with Content-Encoding ${answer.contentEncoding ?? "(none)"}`);
  }
  return answer;
}

async function timedRuns(times: number, get: () => Promise<RawAnswer>): Promise<{ ms: number[]; last: RawAnswer }> {
  const ms: number[] = [];
  let last: RawAnswer | undefined;
  for (let i = 0; i < times; i++) {
    last = await get();
    ms.push(last.ms);
  }
  if (last === undefined) throw new Error("no runs");
  return { ms, last };
}

/**
 * Memory held per tracked calculation after GC (V8 heap plus Buffers, which
 * live outside it), exporter against naive, both in this process against a
 * simulator with no latency or quota.
 */
async function heapPerCalculation(endpoint: string, ids: readonly string[]): Promise<{ ours: number; naive: number | undefined }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  const measure = async (fill: () => Promise<unknown>, keep: () => unknown): Promise<number> => {
    const held = (): number => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = held();
    await fill();
    // At rest: full chunks of settled text are compressed in the background after the scrape, and their text let go.
    let after = held();
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const now = held();
      if (now >= after) break;
      after = now;
    }
    keep();
    return (after - before) / ids.length;
  };
  const parsed = parseConfig(
    `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 10000, maxConcurrency: ${CONCURRENCY}}\ncache: {maxEntries: ${ids.length}}\nscrape: {timeout: 10m}\ncalculations: []`,
    "bench",
    FAMILY_NAMES,
  );
  if (!parsed.ok) throw new Error(parsed.error.problems.join("; "));
  let exporter: Target | undefined;
  const config = { ...parsed.value, calculations: ids };
  const ours = await measure(
    async () => {
      exporter = new Target(config, {
        logger: pino({ level: "silent" }),
        clock: SYSTEM_CLOCK,
        shard: SINGLE_SHARD,
        athenaApis: sdkAthenaApis(),
      });
      await exporter.scrape(AbortSignal.timeout(600_000));
    },
    () => exporter,
  );
  let naive: number | undefined;
  if (ids.length <= naiveMax) {
    let baseline: NaiveExporter | undefined;
    naive = await measure(
      async () => {
        baseline = new NaiveExporter(new AthenaClient({ region: "us-east-1", endpoint }), ids);
        await baseline.scrape();
      },
      () => baseline,
    );
  }
  return { ours, naive };
}

interface Row {
  n: number;
  coldS: number;
  throttled: number;
  warm: number[];
  floor: number[];
  /** The one scrape after cache.ttl, which waits for the unfinished and the sessions. */
  dueMs: number;
  gzip: number[];
  gzipFloor: number[];
  /** The pre-compressed floor served from the bench's own process, as it was before 2026-11-27: for comparison. */
  gzipFloorInProcess: number[];
  gzipPeer: number[];
  /** Content-Encoding of the exporter's answer to Accept-Encoding: gzip. */
  gzipEncoding: string;
  wireBytes: number;
  oneShotBytes: number;
  bodySamples: number;
  prometheus: PrometheusView;
  bodyMiB: number;
  callsPerWarmScrape: number;
  dueCalls: number;
  /** Of dueCalls, GetSession: the sessions, refreshed like unfinished calculations. */
  dueSessionCalls: number;
  sessions: number;
  unfinished: number;
  naiveCalls: number | undefined;
  naiveScrapeMs: number | undefined;
  naiveThrottled: number | undefined;
  heapPerCalc: number;
  naiveHeapPerCalc: number | undefined;
  rssPerCalc: number;
}

async function run(n: number, dir: string, baselineRss: number): Promise<Row> {
  const sim = new AthenaSimulator({ latencyMs: LATENCY, quotaPerSecond: QUOTA });
  const ids = populate(sim, n);
  const endpoint = await sim.start(0, "127.0.0.1");
  const unfinished = ids.filter((id) => sim.state.calculations.get(id)?.state === "RUNNING").length;
  process.stderr.write(`[${n}] cold start...\n`);
  const started = performance.now();
  const { url, child } = await startExporterProcess(endpoint, ids, dir);
  let body = "";
  try {
    const long = { "X-Prometheus-Scrape-Timeout-Seconds": "600" };
    for (;;) {
      body = (await timedGet(`${url}/metrics`, long)).body;
      const upCount = body.split("\nathena_calculation_up{").length - 1;
      if (upCount >= n) break;
    }
    const coldS = (performance.now() - started) / 1000;
    const throttled = sim.throttled;

    // Refetch what went stale during a long cold start, then measure with nothing due.
    await timedGet(`${url}/metrics`, long);
    process.stderr.write(`[${n}] warm scrapes...\n`);
    const callsBefore = sim.calls();
    const warm: number[] = [];
    for (let i = 0; i < warmScrapes(n); i++) {
      const r = await timedGet(`${url}/metrics`, long);
      warm.push(r.ms);
      body = r.body;
    }
    const callsPerWarmScrape = (sim.calls() - callsBefore) / warmScrapes(n);
    const rss = metric(body, "process_resident_memory_bytes");

    const buffer = Buffer.from(body);
    // The baselines in a process of their own, as the exporter is (baseline-process.ts says why).
    const baselines = await startBaselines(buffer);
    const floor: number[] = [];
    for (let i = 0; i < warmScrapes(n); i++) floor.push((await timedGet(baselines.identity)).ms);

    process.stderr.write(`[${n}] gzip scrapes: ours, pre-compressed floor, compress-per-request peer...\n`);
    const oneShot = gzipSync(buffer);
    const inProcessFloor = await precompressedServer(oneShot);
    const gzipCallsBefore = sim.calls();
    // In turn, so that a busy moment of the machine falls on both.
    const gzip: number[] = [];
    const gzipFloor: number[] = [];
    const gzipFloorInProcess: number[] = [];
    let last: RawAnswer | undefined;
    for (let i = 0; i < gzipScrapes(n); i++) {
      last = expectGzip(await rawGet(`${url}/metrics`, { ...GZIP, ...long }), "the exporter");
      gzip.push(last.ms);
      gzipFloor.push((await rawGet(baselines.gzipFloor, GZIP)).ms);
      gzipFloorInProcess.push((await rawGet(inProcessFloor.url, GZIP)).ms);
    }
    await inProcessFloor.close();
    if (last === undefined) throw new Error("no gzip scrape");
    const gzipPeer = (await timedRuns(warmScrapes(n), () => rawGet(baselines.peer, GZIP))).ms;
    const gzipCalls = sim.calls() - gzipCallsBefore;
    if (gzipCalls > 0) process.stderr.write(`[${n}] note: ${gzipCalls} Athena calls fell due during the gzip scrapes\n`);

    process.stderr.write(`[${n}] a real Prometheus scraping the exporter and the floor...\n`);
    const prometheus = await prometheusView(
      { exporter: new URL(url).host, floor: new URL(baselines.gzipFloor).host },
      prometheusInterval(n),
      prometheusScrapes(n),
    );
    await baselines.close();
    // Counted from a body taken just after Prometheus's scrapes, so that what changed meanwhile (executors listed) is in both.
    const afterPrometheus = await (await fetch(`${url}/metrics`, { headers: { ...long, "Accept-Encoding": "identity" } })).text();

    process.stderr.write(`[${n}] waiting ${TTL_S}s for the unfinished to be due...\n`);
    await sleep(TTL_S * 1000 + 500);
    const beforeDue = sim.calls();
    const beforeDueSessions = sim.calls("GetSession");
    const dueMs = (await timedGet(`${url}/metrics`, long)).ms;
    const dueCalls = sim.calls() - beforeDue;
    const dueSessionCalls = sim.calls("GetSession") - beforeDueSessions;

    let naiveCalls: number | undefined;
    let naiveScrapeMs: number | undefined;
    let naiveThrottled: number | undefined;
    if (n <= naiveMax) {
      process.stderr.write(`[${n}] naive exporter scrape...\n`);
      const naive = new NaiveExporter(new AthenaClient({ region: "us-east-1", endpoint }), ids);
      const c0 = sim.calls();
      const t0 = sim.throttled;
      const t = performance.now();
      await naive.scrape();
      naiveScrapeMs = performance.now() - t;
      naiveCalls = sim.calls() - c0;
      naiveThrottled = sim.throttled - t0;
    }
    // The most the serving process was resident at once, cold start and gzip scrapes included: what a pod's limit must cover.
    peaks.push({ n, bytes: await peakRss(child.pid ?? 0) });
    child.kill("SIGTERM");

    process.stderr.write(`[${n}] heap per calculation...\n`);
    const fast = new AthenaSimulator();
    const fastIds = populate(fast, n);
    const fastEndpoint = await fast.start(0, "127.0.0.1");
    const heap = await heapPerCalculation(fastEndpoint, fastIds);
    await fast.stop();

    return {
      n,
      coldS,
      throttled,
      warm,
      floor,
      dueMs,
      gzip,
      gzipFloor,
      gzipFloorInProcess,
      gzipPeer,
      gzipEncoding: last.contentEncoding ?? "identity",
      wireBytes: last.bytes.length,
      oneShotBytes: oneShot.length,
      bodySamples: afterPrometheus.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length,
      prometheus,
      bodyMiB: buffer.length / 2 ** 20,
      callsPerWarmScrape,
      dueCalls,
      dueSessionCalls,
      sessions: sim.state.sessions.size,
      unfinished,
      naiveCalls,
      naiveScrapeMs,
      naiveThrottled,
      heapPerCalc: heap.ours,
      naiveHeapPerCalc: heap.naive,
      rssPerCalc: (rss - baselineRss) / n,
    };
  } finally {
    child.kill("SIGKILL");
    await sim.stop();
  }
}

function table(rows: readonly Row[]): string {
  const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}.`,
    `Simulator: ${LATENCY[0]}–${LATENCY[1]} ms per call, quota ${QUOTA} requests/s; exporter: ${RATE} requests/s (lists ${LIST_RATE}/s), ${CONCURRENCY} in flight, cache.ttl ${TTL_S}s; ${UNFINISHED_SHARE * 100}% of calculations unfinished.`,
    "",
    "| tracked | warm scrape p50 / p99 | static floor p50 / p99 | ratio p50 / p99 | body | calls per warm scrape (none due) | calls when the unfinished are due | scrape with calls due | naive calls per scrape | ratio | naive scrape | cold start to first complete scrape | throttles seen (ours / naive) | memory per calculation, heap + buffers (ours / naive) | RSS per calculation |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const w50 = percentile(r.warm, 50);
      const w99 = percentile(r.warm, 99);
      const f50 = percentile(r.floor, 50);
      const f99 = percentile(r.floor, 99);
      return [
        "",
        r.n.toLocaleString("en"),
        `${ms(w50)} / ${ms(w99)}`,
        `${ms(f50)} / ${ms(f99)}`,
        `${(w50 / f50).toFixed(2)}x / ${(w99 / f99).toFixed(2)}x`,
        `${r.bodyMiB.toFixed(1)} MiB`,
        r.callsPerWarmScrape.toFixed(1),
        `${r.dueCalls} (${r.unfinished} unfinished; ${r.dueSessionCalls} GetSession for ${r.sessions} sessions)`,
        ms(r.dueMs),
        r.naiveCalls === undefined ? "not run" : String(r.naiveCalls),
        r.naiveCalls === undefined ? "" : `${(r.dueCalls / r.naiveCalls).toFixed(3)}x`,
        r.naiveScrapeMs === undefined ? "" : ms(r.naiveScrapeMs),
        `${r.coldS.toFixed(1)} s`,
        `${r.throttled} / ${r.naiveThrottled ?? "–"}`,
        `${kib(r.heapPerCalc)} / ${r.naiveHeapPerCalc === undefined ? "–" : kib(r.naiveHeapPerCalc)}${r.naiveHeapPerCalc === undefined ? "" : ` (${(r.heapPerCalc / r.naiveHeapPerCalc).toFixed(2)}x)`}`,
        kib(r.rssPerCalc),
        "",
      ]
        .join(" | ")
        .trim();
    }),
    "",
    "With `Accept-Encoding: gzip` (ours against, in the same run, the same body compressed once beforehand and sent from memory, the floor; and compressed on every request, the peer; both in a process of their own, as the exporter is):",
    "",
    "| tracked | encoding | warm scrape p50 / p99 | pre-compressed floor p50 / p99 | ratio to floor p50 / p99 | compress-per-request peer p50 / p99 | ratio to peer p50 / p99 | bytes on the wire | one-shot gzip | size ratio | Prometheus scrape_duration_seconds p50 / max, ours | same, floor | ratio p50 | samples Prometheus scraped / in the body |",
    "| ---: | :-- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const pair = (xs: number[]): string => `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 99))}`;
      const ratio = (a: number[], b: number[]): string =>
        `${(percentile(a, 50) / percentile(b, 50)).toFixed(2)}x / ${(percentile(a, 99) / percentile(b, 99)).toFixed(2)}x`;
      const p = r.prometheus;
      const seen = (job: string): string =>
        `${ms(p.p50Ms[job] ?? NaN)} / ${ms(p.maxMs[job] ?? NaN)}${p.allUp[job] === 1 ? "" : " (a scrape failed)"} (${p.scrapes[job] ?? 0} scrapes)`;
      return [
        "",
        r.n.toLocaleString("en"),
        r.gzipEncoding,
        pair(r.gzip),
        pair(r.gzipFloor),
        ratio(r.gzip, r.gzipFloor),
        pair(r.gzipPeer),
        ratio(r.gzip, r.gzipPeer),
        kib(r.wireBytes),
        kib(r.oneShotBytes),
        `${(r.wireBytes / r.oneShotBytes).toFixed(3)}x`,
        seen("exporter"),
        seen("floor"),
        `${((p.p50Ms.exporter ?? NaN) / (p.p50Ms.floor ?? NaN)).toFixed(2)}x`,
        `${p.samples.exporter ?? NaN} / ${r.bodySamples}`,
        "",
      ]
        .join(" | ")
        .trim();
    }),
    "",
    `The same pre-compressed floor served from the bench's own process, which no request to the exporter can match (it crosses no process boundary), scraped in turn with the other two: p50 ${rows
      .map(
        (r) =>
          `${ms(percentile(r.gzipFloorInProcess, 50))} at ${r.n.toLocaleString("en")} (ours ${(percentile(r.gzip, 50) / percentile(r.gzipFloorInProcess, 50)).toFixed(2)}x)`,
      )
      .join(", ")}.`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ace-bench-"));
  try {
    const sim0 = new AthenaSimulator();
    const e0 = await sim0.start(0, "127.0.0.1");
    const empty = await startExporterProcess(e0, [], dir);
    const baselineRss = metric((await timedGet(`${empty.url}/metrics`)).body, "process_resident_memory_bytes");
    const baselinePeak = await peakRss(empty.child.pid ?? 0);
    empty.child.kill("SIGTERM");
    await sim0.stop();

    const rows: Row[] = [];
    for (const n of sizes) {
      rows.push(await run(n, dir, baselineRss));
      // A size that fails later (a long run on a busy machine) leaves the rows measured so far.
      if (rows.length < sizes.length) process.stderr.write(`${table(rows)}\n`);
    }
    process.stdout.write(`${table(rows)}\n`);
    const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;
    process.stdout.write(
      [
        "",
        "Peak RSS (VmHWM) of the serving process across its cold start, warm and gzip scrapes:",
        "| calculations | peak RSS | watching nothing | above it, per calculation |",
        "| ---: | ---: | ---: | ---: |",
        ...peaks.map(
          ({ n, bytes }) =>
            `| ${n.toLocaleString("en")} | ${mib(bytes)} | ${mib(baselinePeak)} | ${((bytes - baselinePeak) / n / 1024).toFixed(1)} KiB |`,
        ),
        "",
      ].join("\n"),
    );
    process.stdout.write(`\n${await discoveryCalls()}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
