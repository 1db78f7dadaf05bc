/**
 * npm run load [-- --calculations=10000 --scrapers=8 --seconds=60]
 *
 * Many concurrent scrapers against the exporter (built, in a child process)
 * tracking 10,000 calculations on the simulator, while faults are injected:
 * throttling, 500s, resets, slow answers. Loopback only, bounded in time and
 * count. Prints failed scrapes (goal: 0), latency, and the exporter's memory
 * over time (goal: no growth after warm-up).
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { FaultKind } from "../simulator/faults.js";
import { AthenaSimulator } from "../simulator/server.js";
import { NODE_FLAGS } from "./exporter-process.js";

const { values } = parseArgs({
  options: {
    calculations: { type: "string", default: "10000" },
    scrapers: { type: "string", default: "8" },
    seconds: { type: "string", default: "60" },
    "max-scrapes": { type: "string", default: "5000" },
  },
});
const N = Number(values.calculations);
const SCRAPERS = Number(values.scrapers);
const SECONDS = Number(values.seconds);
const MAX_SCRAPES = Number(values["max-scrapes"]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const metric = (body: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(body)?.[1] ?? NaN);

const sim = new AthenaSimulator({ latencyMs: [30, 80], quotaPerSecond: 1000 });
const ids: string[] = [];
let session = "";
for (let i = 0; i < N; i++) {
  if (i % 100 === 0) session = sim.state.addSession(`wg-${i % 4}`).id;
  const running = i % 20 === 0;
  ids.push(
    sim.state.addCalculation({
      sessionId: session,
      state: running ? "RUNNING" : "COMPLETED",
      description: `job ${i} "quoted" \\ back\nslash ü`,
      ...(running ? {} : { dpuExecutionMillis: i }),
    }).id,
  );
}
const endpoint = await sim.start(0, "127.0.0.1");
const dir = await mkdtemp(join(tmpdir(), "ace-load-"));
const file = join(dir, "config.yaml");
await writeFile(
  file,
  `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 900, maxConcurrency: 64, requestTimeout: 2s}\ncache: {ttl: 5s}\ncalculations: [${ids.join(",")}]\n`,
);
const port = 40000 + Math.floor(Math.random() * 10000);
const child = spawn(
  process.execPath,
  [...NODE_FLAGS, "dist/main.js", `--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
  {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "AKIDLOAD",
      AWS_SECRET_ACCESS_KEY: "load-secret",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "ignore", "inherit"],
  },
);
const url = `http://127.0.0.1:${port}/metrics`;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url.replace("/metrics", "/-/healthy"))).ok) break;
    } catch {
      if (i > 200) throw new Error("exporter did not start");
      await sleep(50);
    }
  }
  process.stderr.write(`warming up ${N} calculations...\n`);
  await fetch(url, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "120" } });

  const faults: FaultKind[] = ["ThrottlingException", "InternalServerException", "connection-reset", "malformed-json", "delay"];
  const control = { stop: false };
  const injector = (async () => {
    let k = 0;
    while (!control.stop) {
      const kind = faults[k % faults.length] ?? "delay";
      for (let j = 0; j < 50; j++) {
        sim.injectFault({ kind, resourceId: ids[(k * 97 + j * 20) % ids.length] ?? "", remaining: 3, delayMs: 3000 });
      }
      k++;
      await sleep(2000);
    }
  })();

  const latencies: number[] = [];
  const memory: { t: number; rss: number; heap: number }[] = [];
  let scrapes = 0;
  let failed = 0;
  const failures: string[] = [];
  let checked = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: SCRAPERS }, async () => {
      while (Date.now() - started < SECONDS * 1000 && scrapes < MAX_SCRAPES) {
        scrapes++;
        const t = performance.now();
        try {
          const res = await fetch(url, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" } });
          const body = await res.text();
          latencies.push(performance.now() - t);
          const ups = body.split("\nathena_calculation_up{").length - 1;
          if (res.status !== 200 || ups !== N || !body.endsWith("\n")) {
            failed++;
            failures.push(`status ${res.status}, ${ups} up series`);
            continue;
          }
          if (checked < 2 && scrapes > SCRAPERS * 2) {
            checked++;
            execFileSync("promtool", ["check", "metrics"], { input: body, stdio: ["pipe", "ignore", "pipe"] });
          }
          if (memory.length === 0 || Date.now() - (memory.at(-1)?.t ?? 0) > 5000) {
            memory.push({
              t: Date.now(),
              rss: metric(body, "process_resident_memory_bytes"),
              heap: metric(body, "nodejs_heap_size_used_bytes"),
            });
          }
        } catch (e) {
          failed++;
          failures.push(String(e));
        }
      }
    }),
  );
  control.stop = true;
  await injector;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number): string =>
    `${(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN).toFixed(0)} ms`;
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const first = memory[0];
  const last = memory.at(-1);
  const peak = Math.max(...memory.map((m) => m.rss));
  process.stdout.write(
    [
      `${N} calculations, ${SCRAPERS} concurrent scrapers for ${SECONDS}s, faults injected every 2s (50 calculations each: ${faults.join(", ")}).`,
      `scrapes: ${scrapes}, failed: ${failed}${failures.length > 0 ? ` (${failures.slice(0, 3).join("; ")})` : ""}, promtool-checked: ${checked}`,
      `latency p50 ${pct(50)}, p99 ${pct(99)}, max ${pct(100)}`,
      `exporter RSS first ${mib(first?.rss ?? NaN)}, peak ${mib(peak)}, last ${mib(last?.rss ?? NaN)}; heap first ${mib(first?.heap ?? NaN)}, last ${mib(last?.heap ?? NaN)} (${memory.length} samples)`,
      "",
    ].join("\n"),
  );
  process.exitCode = failed === 0 ? 0 : 1;
} finally {
  child.kill("SIGTERM");
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
}
