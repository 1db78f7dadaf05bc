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
import { precompressedServer, rawGet } from "./gzip-baselines.js";
import { populate } from "./workload.js";

const { values } = parseArgs({
  allowNegative: true,
  options: {
    n: { type: "string", default: "10000" },
    scrapes: { type: "string", default: "50" },
    encoding: { type: "string", default: "gzip" },
    dir: { type: "string", default: "/tmp/prof" },
    profile: { type: "boolean", default: true },
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
const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(
  process.execPath,
  [
    ...(values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.dir}`] : []),
    "dist/main.js",
    `--config.file=${file}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=error",
  ],
  { env: { ...process.env, AWS_ACCESS_KEY_ID: "AKIDPROF", AWS_SECRET_ACCESS_KEY: "x" }, stdio: ["ignore", "inherit", "inherit"] },
);
const url = `http://127.0.0.1:${port}/metrics`;
for (;;) {
  try {
    const r = await rawGet(url, {});
    if (r.status === 200 && r.bytes.toString().split("\nathena_calculation_up{").length - 1 >= n) break;
  } catch {
    /* not up yet */
  }
  await new Promise((r) => setTimeout(r, 200));
}
const headers: Record<string, string> = values.encoding === "gzip" ? { "Accept-Encoding": "gzip" } : {};
for (let i = 0; i < 3; i++) await rawGet(url, headers);
// V8's profile timestamps and hrtime are both the monotonic clock: the analysis can skip the cold start.
console.log(`warm from ${process.hrtime.bigint() / 1000n} us`);
// The floor beside it, scraped in turn with the exporter so both see the same machine.
const plain = (await rawGet(url, { "Accept-Encoding": "identity" })).bytes;
const floor = await precompressedServer(gzipSync(plain));
const times: number[] = [];
const floorTimes: number[] = [];
for (let i = 0; i < Number(values.scrapes); i++) {
  times.push((await rawGet(url, headers)).ms);
  if (values.encoding === "gzip") floorTimes.push((await rawGet(floor.url, headers)).ms);
}
await floor.close();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
times.sort((a, b) => a - b);
console.log(`n=${n} ${values.encoding}: p50 ${median(times).toFixed(2)} ms, min ${times[0]?.toFixed(2)} ms`);
if (floorTimes.length > 0) {
  console.log(`pre-compressed floor p50 ${median(floorTimes).toFixed(2)} ms: ours ${(median(times) / median(floorTimes)).toFixed(2)}x`);
}
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await sim.stop();
