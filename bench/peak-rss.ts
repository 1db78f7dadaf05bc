/**
 * npm run bench:memory [-- --sizes=10000,100000]
 *
 * The peak resident set (VmHWM) of the serving process, as a pod's memory
 * limit must cover it: the exporter (built, in a child process, through the
 * real SDK) against the simulator, across a cold start and warm scrapes,
 * plain and gzip, beside the same exporter watching nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AthenaSimulator } from "../simulator/server.js";
import { populate } from "./workload.js";
import { startExporterProcess } from "./exporter-process.js";

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;

/** VmHWM of a process, in bytes: the most it was resident at once. */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib) * 1024;
}

/** Peak RSS of an exporter watching `n` calculations (95% finished), across a cold start and 10 warm scrapes of each encoding. */
export async function measurePeak(n: number, dir: string): Promise<number> {
  const sim = new AthenaSimulator({ latencyMs: [30, 80], quotaPerSecond: 1000 });
  const ids = n === 0 ? [] : populate(sim, n);
  const endpoint = await sim.start(0, "127.0.0.1");
  const { url, child } = await startExporterProcess(endpoint, ids, dir);
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
