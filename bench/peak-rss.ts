/**
 * npm run bench:memory [-- --sizes=10000,100000]
 *
 * The peak resident set (VmHWM) of the serving process, as a pod's memory
 * limit must cover it: the exporter (built, in a child process, through the
 * real SDK) against the simulator, across a cold start and warm scrapes,
 * plain and gzip, beside the same exporter watching nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AthenaSimulator } from "../simulator/server.js";
import { populate } from "./workload.js";

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench-secret",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;

/** VmHWM of a process, in bytes: the most it was resident at once. */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib) * 1024;
}

async function exporter(endpoint: string, ids: readonly string[], dir: string): Promise<{ url: string; child: ChildProcess }> {
  const file = join(dir, `config-${ids.length}.yaml`);
  await writeFile(
    file,
    `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 900, maxConcurrency: 64}\n` +
      `scrape: {timeout: 10m}\ncache: {ttl: 30s, maxEntries: ${Math.max(1, ids.length)}}\ncalculations: [${ids.join(",")}]\n`,
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
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`${url}/-/healthy`)).ok) return { url, child };
    } catch {
      await sleep(50);
    }
  }
  throw new Error("exporter did not start");
}

/** Peak RSS of an exporter watching `n` calculations (95% finished), across a cold start and 10 warm scrapes of each encoding. */
export async function measurePeak(n: number, dir: string): Promise<number> {
  const sim = new AthenaSimulator({ latencyMs: [30, 80], quotaPerSecond: 1000 });
  const ids = n === 0 ? [] : populate(sim, n);
  const endpoint = await sim.start(0, "127.0.0.1");
  const { url, child } = await exporter(endpoint, ids, dir);
  try {
    const long = { "X-Prometheus-Scrape-Timeout-Seconds": "600", "Accept-Encoding": "identity" };
    for (;;) {
      const body = await (await fetch(`${url}/metrics`, { headers: long })).text();
      if (body.split("\nathena_calculation_up{").length - 1 >= n) break;
    }
    for (let i = 0; i < 10; i++) {
      await (await fetch(`${url}/metrics`, { headers: long })).arrayBuffer();
      await (await fetch(`${url}/metrics`, { headers: { ...long, "Accept-Encoding": "gzip" } })).arrayBuffer();
    }
    return await peakRss(child.pid ?? 0);
  } finally {
    child.kill("SIGTERM");
    await sim.stop();
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "10000,100000" } } });
  const dir = await mkdtemp(join(tmpdir(), "ace-peak-"));
  try {
    const floor = await measurePeak(0, dir);
    const rows = [`| calculations | peak RSS (VmHWM) | watching nothing | above it, per calculation |`, `| ---: | ---: | ---: | ---: |`];
    for (const n of values.sizes.split(",").map(Number)) {
      const peak = await measurePeak(n, dir);
      rows.push(`| ${n.toLocaleString("en")} | ${mib(peak)} | ${mib(floor)} | ${((peak - floor) / n / 1024).toFixed(1)} KiB |`);
    }
    process.stdout.write(`${rows.join("\n")}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
