/**
 * Developer tool, not part of the bench: starts the simulator with N
 * calculations and the built exporter with --cpu-prof, takes warm scrapes,
 * and leaves the V8 CPU profile in --dir for a look at where a scrape goes.
 * node --import tsx bench/profile-scrape.ts --n=10000 --scrapes=50 --encoding=gzip --dir=/tmp/prof [--no-profile]
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AthenaSimulator } from "../simulator/server.js";
import { gzipSync } from "node:zlib";
import { precompressedServer, rawGet, startBaselines } from "./gzip-baselines.js";
import { populate } from "./workload.js";

const { values } = parseArgs({
  allowNegative: true,
  options: {
    n: { type: "string", default: "10000" },
    scrapes: { type: "string", default: "50" },
    encoding: { type: "string", default: "gzip" },
    dir: { type: "string", default: "/tmp/prof" },
    profile: { type: "boolean", default: true },
    // Builds to compare, scraped in turn (an A/B on the same machine moment): --main=dist/main.js --main=/tmp/old/main.js
    main: { type: "string", multiple: true, default: ["dist/main.js"] },
    // Node options for the exporter alone, e.g. --node-option=--single-threaded
    "node-option": { type: "string", multiple: true, default: [] },
  },
});
const n = Number(values.n);
const sim = new AthenaSimulator();
const ids = populate(sim, n);
const endpoint = await sim.start(0, "127.0.0.1");
const file = join(values.dir, "config.yaml");
await writeFile(
  file,
  `aws: {region: us-east-1, endpoint: "${endpoint}", requestsPerSecond: 10000, maxConcurrency: 64}\nscrape: {timeout: 10m}\ncache: {ttl: 10m, maxEntries: ${n}}\ncalculations: [${ids.join(",")}]\n`,
);
const startExporter = async (main: string): Promise<{ url: string; child: ReturnType<typeof spawn> }> => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [
      ...(values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.dir}`] : []),
      ...values["node-option"],
      main,
      `--config.file=${file}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=error",
    ],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: "AKIDPROF", AWS_SECRET_ACCESS_KEY: "x" }, stdio: ["ignore", "inherit", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${main} exited with code ${child.exitCode} before serving`);
    try {
      const r = await rawGet(url, {});
      if (r.status === 200 && r.bytes.toString().split("\nathena_calculation_up{").length - 1 >= n) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, child };
};
const exporters = [];
for (const main of values.main) exporters.push({ main, ...(await startExporter(main)), times: [] as number[], headers: [] as number[] });
const [first] = exporters;
if (first === undefined) throw new Error("--main names no build");
const url = first.url;
const headers: Record<string, string> = values.encoding === "gzip" ? { "Accept-Encoding": "gzip" } : {};
for (const e of exporters) for (let i = 0; i < 3; i++) await rawGet(e.url, headers);
// V8's profile timestamps and hrtime are both the monotonic clock: the analysis can skip the cold start.
console.log(`warm from ${process.hrtime.bigint() / 1000n} us`);
// The floors beside it, scraped in turn with the exporter so that all see the same machine:
// in a process of its own as the bench runs it, and in this process (gzip only: they answer nothing else).
const gzip = values.encoding === "gzip";
const plain = (await rawGet(url, { "Accept-Encoding": "identity" })).bytes;
const baselines = gzip ? await startBaselines(plain) : undefined;
const inProcess = gzip ? await precompressedServer(gzipSync(plain)) : undefined;
const floorTimes: number[] = [];
const floorHeaders: number[] = [];
const inProcessTimes: number[] = [];
for (let i = 0; i < Number(values.scrapes); i++) {
  for (const e of exporters) {
    const r = await rawGet(e.url, headers);
    e.times.push(r.ms);
    e.headers.push(r.headersMs);
  }
  if (baselines === undefined || inProcess === undefined) continue;
  const f = await rawGet(baselines.gzipFloor, headers);
  floorTimes.push(f.ms);
  floorHeaders.push(f.headersMs);
  inProcessTimes.push((await rawGet(inProcess.url, headers)).ms);
}
await inProcess?.close();
await baselines?.close();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? NaN;
if (floorHeaders.length > 0) console.log(`floor: headers p50 ${median(floorHeaders).toFixed(2)} ms`);
for (const { main, times, headers: heads } of exporters) {
  console.log(
    `${main} n=${n} ${values.encoding}: p50 ${median(times).toFixed(2)} ms, p25 ${quantile(times, 0.25).toFixed(2)}, min ${Math.min(...times).toFixed(2)} ms; headers p50 ${median(heads).toFixed(2)} ms`,
  );
  for (const [name, xs] of [
    ["pre-compressed floor, own process", floorTimes],
    ["pre-compressed floor, this process", inProcessTimes],
  ] as const) {
    if (xs.length > 0) console.log(`  ${name}: p50 ${median(xs).toFixed(2)} ms, ours ${(median(times) / median(xs)).toFixed(2)}x`);
  }
}
for (const { child } of exporters) {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
await sim.stop();
