import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AthenaSimulator } from "../../simulator/server.js";
import { TEST_CREDENTIALS, valueOf, waitFor } from "../helpers.js";

// The built program, as `npm start` runs it (npm test builds first).
const MAIN = new URL("../../dist/main.js", import.meta.url).pathname;
const env = { ...process.env, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };

function run(args: string[], entry: string[] = [MAIN]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [...entry, ...args], { encoding: "utf8", env, timeout: 20_000 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

// `npm run demo` and `npm run simulator` run these, as `npm start` runs MAIN.
const DEMO = ["--import", "tsx", new URL("../../simulator/demo.ts", import.meta.url).pathname];
const SIMULATOR = ["--import", "tsx", new URL("../../simulator/main.ts", import.meta.url).pathname];

/** Runs `body` with a port some other server holds. */
async function withBusyPort(body: (port: number) => void): Promise<void> {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const address = taken.address();
  try {
    assert.ok(address !== null && typeof address === "object");
    body(address.port);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}

describe("command line", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true });
  });

  it("lists every flag with --help", () => {
    const out = run(["--help"]);
    assert.equal(out.status, 0);
    for (const flag of ["--config.file", "--web.listen-address", "--log.level", "--version", "--help"]) {
      assert.ok(out.stdout.includes(flag), `--help does not mention ${flag}`);
    }
  });

  it("refuses an unknown flag with usage and exit code 2", () => {
    const out = run(["--web.listen-adress=:1"]);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /Unknown option '--web.listen-adress'/);
  });

  it("exits 1 at start on a bad config, naming file, key and problem", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "calculations: [not-an-id]\ncache: {ttl: forever}\n");
    const out = run([`--config.file=${file}`, "--web.listen-address=127.0.0.1:0"]);
    assert.equal(out.status, 1);
    assert.ok(out.stderr.includes(`invalid configuration in ${file}`), out.stderr);
    assert.ok(out.stderr.includes("calculations[0]: is not a calculation execution ID"), out.stderr);
    assert.ok(out.stderr.includes('cache.ttl: "forever" is not a duration'), out.stderr);
  });

  it("never shows a URL's password from a bad config on stderr or in the logs", async () => {
    const file = join(dir, "secret.yaml");
    await writeFile(file, `aws: {endpoint: "ftp://user:s3cret@x", stsEndpoint: "https://user:s3cret@sts.example/", maxAttempts: "x"}\n`);
    const out = run([`--config.file=${file}`, "--web.listen-address=127.0.0.1:0"]);
    assert.equal(out.status, 1);
    assert.ok(out.stderr.includes('aws.endpoint: must be an http:// or https:// URL, got string "ftp://***@x"'), out.stderr);
    assert.ok(out.stderr.includes('aws.maxAttempts: expected a number, got string "x"'), out.stderr);
    assert.ok(!out.stderr.includes("s3cret") && !out.stdout.includes("s3cret"), out.stderr + out.stdout);
  });

  it("keeps the message of a 10,000-character bad value short, naming the key", async () => {
    const file = join(dir, "long.yaml");
    await writeFile(file, `calculations: []\naws: {region: ${"r".repeat(10_000)}}\n`);
    const out = run([`--config.file=${file}`, "--web.listen-address=127.0.0.1:0"]);
    assert.equal(out.status, 1);
    assert.match(
      out.stderr,
      /^error: invalid configuration in .*: aws\.region: is not an AWS region name, such as us-east-1, got string "r+…\n$/,
    );
    assert.ok(out.stderr.length < 400, `${out.stderr.length} characters`);
  });

  it("prints its version with --version", () => {
    const out = run(["--version"]);
    assert.equal(out.status, 0);
    assert.match(out.stdout, /^athena-calculation-exporter \d+\.\d+\.\d+ \(Node\.js v\d+/);
  });

  it("reports a port in use as one line on stderr with exit code 1", async () => {
    const file = join(dir, "port.yaml");
    await writeFile(file, "aws: {region: us-east-1}\ncalculations: []\n");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    try {
      assert.ok(address !== null && typeof address === "object");
      const out = run([`--config.file=${file}`, `--web.listen-address=127.0.0.1:${address.port}`]);
      assert.equal(out.status, 1);
      assert.equal(out.stderr, `error: listen EADDRINUSE: address already in use 127.0.0.1:${address.port}\n`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("exits 1 when the config file is missing, naming its path", () => {
    const out = run(["--config.file=/nonexistent/config.yaml", "--web.listen-address=127.0.0.1:0"]);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /\/nonexistent\/config\.yaml: cannot read config file: no such file/);
  });

  it("answers a busy port with one line and exit 1 from the demo and the simulator too", async () => {
    await withBusyPort((port) => {
      const demo = run([`--web.listen-address=127.0.0.1:${port}`], DEMO);
      assert.equal(demo.status, 1, demo.stderr);
      assert.equal(demo.stderr, `error: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
      const simulator = run([`--port=${port}`], SIMULATOR);
      assert.equal(simulator.status, 1, simulator.stderr);
      assert.equal(simulator.stderr, `error: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
    });
  });

  it("answers bad flags with one error line and exit 2 from the demo and the simulator", () => {
    const demo = run(["--web.listen-adress=:1"], DEMO);
    assert.equal(demo.status, 2);
    assert.match(demo.stderr.split("\n")[0] ?? "", /^error: Unknown option '--web.listen-adress'/);
    const simulator = run(["--prot=1"], SIMULATOR);
    assert.equal(simulator.status, 2);
    assert.match(simulator.stderr, /^error: Unknown option '--prot'.* \(see --help\)\n$/);
    const port = run(["--port=http"], SIMULATOR);
    assert.equal(port.status, 2);
    assert.equal(port.stderr, 'error: --port: "http" is not a port number\n');
  });

  it("answers a missing config file with one line and exit 1 from the demo", () => {
    const out = run(["--config.file=/nonexistent/demo.yaml", "--web.listen-address=127.0.0.1:0"], DEMO);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /^error: .*\/nonexistent\/demo\.yaml: cannot read config file: no such file[^\n]*\n$/);
  });

  it("logs logfmt by default, as Prometheus exporters do, and refuses an unknown --log.format", async () => {
    const file = join(dir, "logfmt.yaml");
    await writeFile(file, "aws: {region: us-east-1}\ncalculations: []\n");
    const child = spawn(process.execPath, [MAIN, `--config.file=${file}`, "--web.listen-address=127.0.0.1:0"], { env });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes("exporter listening"), 15_000, "the exporter to listen");
      const line = stdout.split("\n").find((l) => l.includes("exporter listening")) ?? "";
      assert.match(line, /^ts=\d{4}-\d\d-\d\dT\S+Z level=info msg="exporter listening" .*url=http:\/\/127\.0\.0\.1:\d+\/metrics /);
      assert.match(line, / config=\S*logfmt\.yaml /);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      child.kill("SIGKILL");
    }
    const bad = run(["--log.format=text"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: --log\.format: "text" is not one of logfmt, json\n/);
  });

  it("without credentials, says once how to get going (fake keys for the simulator, or npm run demo) and logs each call at debug", async () => {
    const simulator = new AthenaSimulator();
    const session = simulator.state.addSession("wg");
    const ids = [0, 1, 2].map(() => simulator.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id);
    const endpoint = await simulator.start(0, "127.0.0.1");
    const file = join(dir, "nocreds.yaml");
    await writeFile(file, `aws: {region: us-east-1}\ncalculations: [${ids.join(", ")}]\ncache: {ttl: 1s}\n`);
    const noCredentials = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
    const child = spawn(process.execPath, [MAIN, `--config.file=${file}`, "--web.listen-address=127.0.0.1:0", "--log.level=debug"], {
      env: {
        ...noCredentials,
        AWS_ENDPOINT_URL_ATHENA: endpoint,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_CONFIG_FILE: join(dir, "none"),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    try {
      const calls = (): string[] =>
        stdout.split("\n").filter((l) => l.includes('msg="athena call" ') && l.includes("outcome=MissingCredentials"));
      await waitFor(() => stdout.includes("exporter listening"), 15_000, "the exporter to listen");
      const url = /url=(\S+)/.exec(stdout)?.[1] ?? "";
      // The exporter refreshes on scrapes: two scrapes, two rounds of failed calls.
      const metrics = await (await fetch(url)).text();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await fetch(url);
      await waitFor(() => calls().length >= 6, 20_000, "six failed calls");
      assert.match(metrics, /athena_calculation_refresh_error_info\{[^}]*error="MissingCredentials"\} 1/);
      assert.match(
        stdout,
        /level=warn msg="calculation refresh failed" .*reason="the SDK's default chain found no AWS credentials; the simulator \(AWS_ENDPOINT_URL_ATHENA\) takes any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"/,
      );
      const hints = stdout.split("\n").filter((l) => l.includes("npm run demo"));
      assert.equal(hints.length, 1, stdout);
      assert.match(
        hints[0] ?? "",
        /level=error msg="no AWS credentials: .*set any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the simulator.*or run `npm run demo`/,
      );
      assert.match(
        calls()[0] ?? "",
        /level=debug msg="athena call" .*operation=GetCalculationExecution duration_ms=\d+ outcome=MissingCredentials/,
      );
      assert.equal(simulator.calls("GetCalculationExecution", ids[0] ?? ""), 0);
    } finally {
      child.kill("SIGKILL");
      await simulator.stop();
    }
  });

  it("serves /metrics from AWS_ENDPOINT_URL_ATHENA, logs JSON without secrets, and stops on SIGTERM", async () => {
    const simulator = new AthenaSimulator();
    const session = simulator.state.addSession("wg");
    const calc = simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 3000 });
    const endpoint = await simulator.start(0, "127.0.0.1");
    const file = join(dir, "good.yaml");
    await writeFile(file, `aws: {region: us-east-1}\ncalculations: [${calc.id}]\n`);
    const child = spawn(
      process.execPath,
      [MAIN, `--config.file=${file}`, "--web.listen-address=127.0.0.1:0", "--log.format=json", "--log.level=debug"],
      {
        env: { ...env, AWS_ENDPOINT_URL_ATHENA: endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes("exporter listening"), 15_000, "the exporter to listen");
      const listening = JSON.parse(stdout.split("\n").find((l) => l.includes("exporter listening")) ?? "{}") as {
        url?: string;
        level?: string;
      };
      assert.equal(listening.level, "info");
      const body = await (await fetch(listening.url ?? "")).text();
      assert.equal(valueOf(body, "athena_calculation_dpu_execution_seconds", { calculation_execution_id: calc.id }), 3);
      assert.equal(simulator.calls("GetCalculationExecution", calc.id), 1);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.ok(!stdout.includes(TEST_CREDENTIALS.secretAccessKey));
      assert.ok(!stdout.includes(TEST_CREDENTIALS.accessKeyId));
      assert.ok(stdout.includes('"msg":"shutting down"'));
      const call = stdout
        .split("\n")
        .filter((l) => l.includes('"msg":"athena call"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.operation === "GetCalculationExecution");
      assert.equal(call?.level, "debug", stdout);
      assert.equal(call.outcome, "ok");
      assert.equal(typeof call.duration_ms, "number");
    } finally {
      child.kill("SIGKILL");
      await simulator.stop();
    }
  });
});
