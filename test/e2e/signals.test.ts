import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AthenaSimulator } from "../../simulator/server.js";
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
  return watched(spawn("npm", ["run", script, "--", ...args], { cwd, env: childEnv() }));
}

/** The built exporter run as node itself, as the image and a systemd unit run it. */
function nodeRun(cwd: string, args: string[]): Started {
  return watched(spawn(process.execPath, ["dist/main.js", ...args], { cwd, env: childEnv() }));
}

function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

function watched(npm: ChildProcessWithoutNullStreams): Started {
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

  // The measure: Athena answering in 8 s, a scrape waiting on it, SIGTERM 0.7 s later.
  describe("with a scrape held on a slow Athena", () => {
    const ATHENA_MS = 8_000;
    const simulator = new AthenaSimulator();
    const session = simulator.state.addSession("wg");
    const calculation = simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
    let slowArgs: string[] = [];
    before(async () => {
      const endpoint = await simulator.start(0, "127.0.0.1");
      simulator.injectFault({ kind: "delay", delayMs: ATHENA_MS, operation: "GetCalculationExecution" });
      simulator.injectFault({ kind: "delay", delayMs: ATHENA_MS, operation: "GetSession" });
      // Neither the call's timeout nor the scrape's deadline comes before Athena's answer: only the stop can end the wait.
      writeFileSync(
        join(checkout, "slow.yaml"),
        `aws: {region: us-east-1, endpoint: "${endpoint}", maxAttempts: 1, requestTimeout: 30s}\nscrape: {timeout: 30s}\ncalculations: [${calculation}]\n`,
      );
      slowArgs = ["--config.file=slow.yaml", "--web.listen-address=127.0.0.1:0"];
    });
    after(() => simulator.stop());

    const cases: [string, (args: string[]) => Started][] = [
      ["node dist/main.js", (args) => nodeRun(checkout, args)],
      ["npm start", (args) => npmRun(checkout, "start", args)],
    ];
    for (const [how, start] of cases) {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        it(`\`${how}\` exits 0 within a second of ${signal}, the scrape answered or closed`, async () => {
          const s = start(slowArgs);
          running.push(s);
          const url = await urlAfter(s, "exporter listening", 120_000);
          const calls = simulator.calls("GetCalculationExecution") + simulator.calls("GetSession");
          const scrape = fetch(`${url}/metrics`).then(
            async (res) => `answered ${res.status}: ${(await res.text()).length} bytes`,
            (e: unknown) => `closed (${String(e)})`,
          );
          await new Promise((r) => setTimeout(r, 700));
          assert.ok(simulator.calls("GetCalculationExecution") + simulator.calls("GetSession") > calls, "the scrape is waiting on Athena");
          const t0 = Date.now();
          s.npm.kill(signal);
          const code = await s.exited;
          const ms = Date.now() - t0;
          const outcome = await Promise.race([scrape, new Promise<string>((r) => setTimeout(() => r("still open"), 100))]);
          process.stdout.write(`# ${how} exited ${ms} ms after ${signal}, Athena taking ${ATHENA_MS} ms; the scrape ${outcome}\n`);
          assert.equal(code, 0, s.output());
          assert.ok(ms < 1000, `${how} took ${ms} ms to exit after ${signal}:\n${s.output()}`);
          assert.match(outcome, /^(answered 200|closed)/);
          assert.equal(await refused(url), true);
        });
      }
    }
  });

  it("`npm start` reloads on SIGHUP sent to the node process its log names (npm forwards only SIGTERM and SIGINT)", async () => {
    const s = npmRun(checkout, "start", [...exporterArgs, "--log.format=json"]);
    running.push(s);
    const url = await urlAfter(s, "exporter listening", 120_000);
    const line = s
      .output()
      .split("\n")
      .find((l) => l.includes("exporter listening"));
    const pid = (JSON.parse(line ?? "{}") as { pid?: number }).pid;
    // README's way to find it without the log: the node process npm started.
    const children = execFileSync("pgrep", ["-P", String(s.npm.pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
    assert.deepEqual(children, [pid], "the pid the log names is npm's child, node");
    process.kill(pid ?? 0, "SIGHUP");
    await waitFor(() => s.output().includes('"msg":"config reloaded"'), 10_000, `the reload after SIGHUP:\n${s.output()}`);
    await stopsOn(s, "SIGTERM", url);
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
