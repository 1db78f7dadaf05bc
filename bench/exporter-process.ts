import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The exporter's settings in every bench: its aws.requestsPerSecond under the simulator's quota of 1,000, and its connections. */
export const RATE = 900;
export const CONCURRENCY = 64;
export const TTL_S = 30;
export const LIST_RATE = 4;
/** Node flags as the image and `npm start` run the exporter with (see the Dockerfile). */
export const NODE_FLAGS = ["--max-semi-space-size=2"];
export const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench-secret",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** The built exporter (dist/) in a process of its own, watching `ids` against `endpoint`, once it answers. */
export async function startExporterProcess(
  endpoint: string,
  ids: readonly string[],
  dir: string,
): Promise<{ url: string; child: ChildProcess }> {
  const file = join(dir, `config-${ids.length}.yaml`);
  await writeFile(
    file,
    [
      "aws:",
      "  region: us-east-1",
      `  endpoint: ${endpoint}`,
      `  requestsPerSecond: ${RATE}`,
      `  maxConcurrency: ${CONCURRENCY}`,
      // The default: executor listings go on beside the measured scrapes, as they would in a deployment.
      `  listRequestsPerSecond: ${LIST_RATE}`,
      "scrape: {timeout: 10m}",
      `cache: {ttl: ${TTL_S}s, maxEntries: ${Math.max(1, ids.length)}}`,
      `calculations: [${ids.join(",")}]`,
      "",
    ].join("\n"),
  );
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, "dist/main.js", `--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
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
