import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { valueOf, waitFor } from "../helpers.js";

// The built demo, as `npm run demo` runs it (npm test builds first).
// The demo is a development tool, run from source (npm run demo), not part of the build or the image.
const DEMO = ["--import", "tsx", new URL("../../simulator/demo.ts", import.meta.url).pathname];
const CONFIG = new URL("../../config.yaml", import.meta.url).pathname;
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };

/** The demo started with `flags`, its output kept, once its banner names the /metrics URL. */
async function startDemo(flags: readonly string[]): Promise<{
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}> {
  const child = spawn(process.execPath, [...DEMO, `--config.file=${CONFIG}`, "--web.listen-address=127.0.0.1:0", ...flags], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    // The banner is for the terminal (stderr); stdout is the log alone.
    await waitFor(() => /Exporter metrics: \S+/.test(stderr), 15_000, "the demo to listen");
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return { child, url: /Exporter metrics: (\S+)/.exec(stderr)?.[1] ?? "", stdout: () => stdout, exited };
}

describe("demo", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-demo-"));
  });
  after(async () => {
    await rm(dir, { recursive: true });
  });

  it("honours --web.config.file and --shard/--total-shards as npm start does, and stops on SIGTERM", async () => {
    const web = join(dir, "web.yml");
    await writeFile(web, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync("demo-password", 4)}"\n`);
    const { child, url, stdout, exited } = await startDemo([`--web.config.file=${web}`, "--shard=1", "--total-shards=2"]);
    try {
      assert.equal((await fetch(url)).status, 401, "the web config's basic auth is ignored");
      const res = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from("prometheus:demo-password").toString("base64")}` } });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.equal(valueOf(text, "athena_exporter_shard_ordinal"), 1);
      assert.equal(valueOf(text, "athena_exporter_total_shards"), 2);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      const log = stdout();
      assert.ok(log.includes('level=info msg="shutting down"'), log); // logfmt, the default
      for (const line of log.split("\n").filter((l) => l !== "")) assert.match(line, /^ts=\S+ level=\w+ msg=/, "a line not in logfmt");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("with --log.format=json writes nothing but JSON lines on stdout, and the banner on stderr", async () => {
    const { child, stdout, exited } = await startDemo(["--log.format=json"]);
    try {
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      const log = stdout();
      const lines = log.split("\n").filter((l) => l !== "");
      const messages = lines.map((line) => {
        const record = JSON.parse(line) as { msg?: unknown }; // throws on the first line that is not JSON
        return record.msg;
      });
      assert.ok(messages.includes("exporter listening") && messages.includes("shutting down"), log);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("prints its flags with --help and starts nothing", () => {
    const out = spawnSync(process.execPath, [...DEMO, "--help"], { encoding: "utf8", env, timeout: 10_000 });
    assert.equal(out.status, 0);
    for (const flag of ["--config.file", "--web.config.file", "--shard", "--total-shards"]) assert.ok(out.stdout.includes(flag), flag);
    assert.ok(!out.stdout.includes("Athena simulator"), out.stdout);
  });

  it("refuses a bad web config at start, naming file and key, with exit code 1", async () => {
    const web = join(dir, "bad-web.yml");
    await writeFile(web, "http_server_config: {http2: false}\n");
    const out = spawnSync(
      process.execPath,
      [...DEMO, `--config.file=${CONFIG}`, "--web.listen-address=127.0.0.1:0", `--web.config.file=${web}`],
      { encoding: "utf8", env, timeout: 10_000 },
    );
    assert.equal(out.status, 1);
    assert.equal(out.stderr, `error: invalid web configuration in ${web}: http_server_config: not supported by this exporter\n`);
    // The log says why as well, in its own format: whoever reads only the log learns the reason too.
    assert.match(out.stdout, /level=error msg="invalid web configuration" .*reason=".*http_server_config: not supported by this exporter"/);
  });

  it("reports a port in use as one line on stderr, stops its simulator and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    try {
      assert.ok(address !== null && typeof address === "object");
      const out = spawnSync(process.execPath, [...DEMO, `--config.file=${CONFIG}`, `--web.listen-address=127.0.0.1:${address.port}`], {
        encoding: "utf8",
        env,
        timeout: 10_000,
      });
      assert.equal(out.status, 1, "the demo did not exit by itself");
      assert.equal(out.stderr, `error: listen EADDRINUSE: address already in use 127.0.0.1:${address.port}\n`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
