import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TEST_CREDENTIALS, waitFor } from "../helpers.js";

// The README's commands as a process manager runs them: `npm start`, `npm run demo`
// and `npm run simulator` started as real processes, signalled at the npm process
// (the one a supervisor or `timeout` knows), and checked to leave nothing listening.
// They run in a copy of the checkout, so that its build cannot touch the dist/ the
// other test files are running at the same time.

const ROOT = new URL("../..", import.meta.url).pathname;
const STOP_WITHIN_MS = 5_000;

interface Started {
  readonly npm: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function npmRun(cwd: string, script: string, args: string[]): Started {
  const npm = spawn("npm", ["run", script, "--", ...args], {
    cwd,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  });
  let output = "";
  npm.stdout.on("data", (d: Buffer) => (output += d.toString()));
  npm.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)));
  return { npm, output: () => output, exited };
}

/** The http://127.0.0.1:PORT on the first output line that contains `marker`. */
async function urlAfter(started: Started, marker: string, timeoutMs: number): Promise<string> {
  let url = "";
  await waitFor(
    () => {
      const line = started
        .output()
        .split("\n")
        .find((l) => l.includes(marker));
      url = /http:\/\/127\.0\.0\.1:\d+/.exec(line ?? "")?.[0] ?? "";
      return url !== "";
    },
    timeoutMs,
    `"${marker}" with a URL in:\n${started.output()}`,
  );
  return url;
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

/** Signals the npm process and checks that npm ends and the port it served closes, within seconds. */
async function stopsOn(started: Started, signal: NodeJS.Signals, url: string): Promise<number> {
  const t0 = Date.now();
  started.npm.kill(signal);
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_WITHIN_MS).unref());
  const code = await Promise.race([started.exited, timeout]);
  assert.notEqual(code, "timeout", `npm still running ${STOP_WITHIN_MS} ms after ${signal}:\n${started.output()}`);
  await waitFor(() => refused(url), STOP_WITHIN_MS, `${url} to stop accepting connections after ${signal}`);
  return Date.now() - t0;
}

describe("signals to the npm process", { timeout: 600_000 }, () => {
  let checkout = "";
  const running: Started[] = [];
  before(() => {
    checkout = mkdtempSync(join(tmpdir(), "ace-signals-"));
    for (const path of ["src", "scripts", "simulator", "package.json", "tsconfig.json", "tsconfig.build.json"]) {
      cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
    }
    symlinkSync(realpathSync(join(ROOT, "node_modules")), join(checkout, "node_modules"));
    writeFileSync(join(checkout, "signals.yaml"), "aws: {region: us-east-1}\ncalculations: []\n");
  });
  after(() => {
    for (const started of running) started.npm.kill("SIGKILL");
    rmSync(checkout, { recursive: true, force: true });
  });

  const exporterArgs = ["--config.file=signals.yaml", "--web.listen-address=127.0.0.1:0"];

  it("three `npm start` at once from an unbuilt checkout build one dist/, all serve, and each stops on SIGTERM", async () => {
    const starts = [0, 1, 2].map(() => npmRun(checkout, "start", exporterArgs));
    running.push(...starts);
    const urls = await Promise.all(starts.map((s) => urlAfter(s, "exporter listening", 300_000)));
    for (const url of urls) {
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^athena_exporter_build_info/m);
    }
    const tsc = starts.filter((s) => s.output().includes("error TS")).length;
    assert.equal(tsc, 0, starts.map((s) => s.output()).join("\n---\n"));
    for (const [i, s] of starts.entries()) {
      const ms = await stopsOn(s, "SIGTERM", urls[i] ?? "");
      process.stdout.write(`# npm start ${i} stopped ${ms} ms after SIGTERM\n`);
      assert.equal(await s.exited, 0, s.output());
    }
  });

  it("`npm start` stops on SIGINT", async () => {
    const s = npmRun(checkout, "start", exporterArgs);
    running.push(s);
    const url = await urlAfter(s, "exporter listening", 120_000);
    await stopsOn(s, "SIGINT", url);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`\`npm run demo\` stops on ${signal}, simulator and exporter both`, async () => {
      const s = npmRun(checkout, "demo", exporterArgs);
      running.push(s);
      const exporter = await urlAfter(s, "Exporter metrics:", 120_000);
      const simulator = await urlAfter(s, "Athena simulator:", 1000);
      const ms = await stopsOn(s, signal, exporter);
      await waitFor(() => refused(simulator), STOP_WITHIN_MS, "the demo's simulator to stop");
      process.stdout.write(`# npm run demo stopped ${ms} ms after ${signal}\n`);
    });

    it(`\`npm run simulator\` stops on ${signal}`, async () => {
      const s = npmRun(checkout, "simulator", ["--port=0"]);
      running.push(s);
      const url = await urlAfter(s, "Athena simulator listening on", 120_000);
      const ms = await stopsOn(s, signal, url);
      process.stdout.write(`# npm run simulator stopped ${ms} ms after ${signal}\n`);
    });
  }
});
