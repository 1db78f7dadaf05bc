/**
 * npm run bench [-- --sizes=1000,10000,100000]
 *
 * Measures the exporter (built, in a child process, through the real SDK)
 * against the Athena simulator with per-call latency and a request quota,
 * beside two baselines run in the same session: a static server sending the
 * identical body from memory (the floor for scrape latency), and a naive
 * prom-client exporter that calls GetCalculationExecution for every ID on
 * every scrape (the baseline for API calls and memory).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AthenaClient } from "@aws-sdk/client-athena";
import { pino } from "pino";
import { parseConfig } from "../src/config/config.js";
import { sdkAthenaApis } from "../src/athena/client.js";
import { SYSTEM_CLOCK } from "../src/clock.js";
import { SINGLE_SHARD } from "../src/shard.js";
import { Target } from "../src/target.js";
import { AthenaSimulator } from "../simulator/server.js";
import { NaiveExporter } from "./naive-exporter.js";

const LATENCY: [number, number] = [30, 80];
const QUOTA = 1000; // simulated Athena requests/s
const RATE = 900; // the exporter's aws.requestsPerSecond, under the quota
const CONCURRENCY = 64;
const TTL_S = 30;
const WARM_SCRAPES = 20;
const UNFINISHED_SHARE = 0.05;
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench-secret",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

// The naive baseline and the in-process exporter sign with these too.
Object.assign(process.env, CREDENTIALS);

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "1000,10000,100000" }, "naive-max": { type: "string", default: "10000" } },
});
const sizes = values.sizes.split(",").map(Number);
const naiveMax = Number(values["naive-max"]);

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function timedGet(url: string, headers: Record<string, string> = {}): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return { ms: performance.now() - t, body };
}

function metric(body: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(body);
  return Number(m?.[1] ?? NaN);
}

function populate(sim: AthenaSimulator, n: number): string[] {
  const ids: string[] = [];
  let session = "";
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    if (i % 100 === 0) session = sim.state.addSession(`spark-wg-${(i / 100) % 4}`).id;
    const unfinished = i % Math.round(1 / UNFINISHED_SHARE) === 0;
    const finalState = i % 10 === 1 ? "FAILED" : i % 10 === 2 ? "CANCELED" : "COMPLETED";
    ids.push(
      sim.state.addCalculation({
        sessionId: session,
        description: `nightly job ${i % 50}`,
        state: unfinished ? "RUNNING" : finalState,
        stateChangeReason: finalState === "FAILED" && !unfinished ? "AnalysisException: Table or view not found" : "",
        submittedAtMs: now - 3_600_000,
        ...(unfinished ? {} : { completedAtMs: now - 600_000, dpuExecutionMillis: 1000 + i }),
      }).id,
    );
  }
  return ids;
}

async function startExporterProcess(endpoint: string, ids: readonly string[], dir: string): Promise<{ url: string; child: ChildProcess }> {
  const file = join(dir, `config-${ids.length}.yaml`);
  await writeFile(
    file,
    [
      "aws:",
      "  region: us-east-1",
      `  endpoint: ${endpoint}`,
      `  requestsPerSecond: ${RATE}`,
      `  maxConcurrency: ${CONCURRENCY}`,
      "scrape: {timeout: 10m}",
      `cache: {ttl: ${TTL_S}s, maxEntries: ${Math.max(1, ids.length)}}`,
      `calculations: [${ids.join(",")}]`,
      "",
    ].join("\n"),
  );
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    ["dist/main.js", `--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
    {
      env: { ...process.env, ...CREDENTIALS },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/-/healthy`)).ok) return { url, child };
    } catch {
      await sleep(50);
    }
  }
  throw new Error("exporter did not start");
}

async function staticServer(body: Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Content-Length": body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
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
    const after = held();
    keep();
    return (after - before) / ids.length;
  };
  const parsed = parseConfig(
    `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 10000, maxConcurrency: ${CONCURRENCY}}\ncache: {maxEntries: ${ids.length}}\nscrape: {timeout: 10m}\ncalculations: []`,
    "bench",
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
    for (let i = 0; i < WARM_SCRAPES; i++) {
      const r = await timedGet(`${url}/metrics`, long);
      warm.push(r.ms);
      body = r.body;
    }
    const callsPerWarmScrape = (sim.calls() - callsBefore) / WARM_SCRAPES;
    const rss = metric(body, "process_resident_memory_bytes");

    const buffer = Buffer.from(body);
    const floorServer = await staticServer(buffer);
    const floor: number[] = [];
    for (let i = 0; i < WARM_SCRAPES; i++) floor.push((await timedGet(floorServer.url)).ms);
    floorServer.server.close();

    process.stderr.write(`[${n}] waiting ${TTL_S}s for the unfinished to be due...\n`);
    await sleep(TTL_S * 1000 + 500);
    const beforeDue = sim.calls();
    const beforeDueSessions = sim.calls("GetSession");
    await timedGet(`${url}/metrics`, long);
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

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ace-bench-"));
  try {
    const sim0 = new AthenaSimulator();
    const e0 = await sim0.start(0, "127.0.0.1");
    const empty = await startExporterProcess(e0, [], dir);
    const baselineRss = metric((await timedGet(`${empty.url}/metrics`)).body, "process_resident_memory_bytes");
    empty.child.kill("SIGTERM");
    await sim0.stop();

    const rows: Row[] = [];
    for (const n of sizes) rows.push(await run(n, dir, baselineRss));

    const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;
    const lines = [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}.`,
      `Simulator: ${LATENCY[0]}–${LATENCY[1]} ms per call, quota ${QUOTA} requests/s; exporter: ${RATE} requests/s, ${CONCURRENCY} in flight, cache.ttl ${TTL_S}s; ${UNFINISHED_SHARE * 100}% of calculations unfinished.`,
      "",
      "| tracked | warm scrape p50 / p99 | static floor p50 / p99 | ratio p50 / p99 | body | calls per warm scrape (none due) | calls when the unfinished are due | naive calls per scrape | ratio | naive scrape | cold start to first complete scrape | throttles seen (ours / naive) | memory per calculation, heap + buffers (ours / naive) | RSS per calculation |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
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
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
