import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";
import { requireBinary, waitFor } from "../helpers.js";

// README's commands, run as README gives them, as far as this machine allows
// (npm start, npm run demo and npm run simulator run in test/e2e/signals.test.ts).
// Here: the Prometheus command, which must run on Debian as an ordinary user
// and as root without touching the packaged service's data or port.

/** README's `prometheus …` line, as words (it has no quotes to parse). */
async function prometheusCommand(): Promise<string[]> {
  const readme = await readFile("README.md", "utf8");
  const lines = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => (m[1] ?? "").split("\n"));
  const found = lines.filter((l) => l.startsWith("prometheus "));
  assert.equal(found.length, 1, `README's sh blocks should hold one prometheus command, not ${found.length}`);
  return (found[0] ?? "").trim().split(/\s+/);
}

function flag(words: readonly string[], name: string): string | undefined {
  return words.find((w) => w.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

/** Runs README's command in a scratch copy of the checkout's prometheus/ folder, on a free port, until it is ready with the rules loaded. */
async function runBriefly(words: readonly string[], asUser: string | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ace-readme-prometheus-"));
  try {
    await cp("prometheus", join(dir, "prometheus"), { recursive: true });
    const port = await freePort();
    const host = (flag(words, "web.listen-address") ?? "").replace(/:\d+$/, "");
    const args = words.slice(1).map((w) => (w.startsWith("--web.listen-address=") ? `--web.listen-address=${host}:${port}` : w));
    let command = requireBinary("prometheus");
    if (asUser !== undefined) {
      // Every directory down to the copy open to that user, as a checkout of theirs would be.
      await chmod(dir, 0o777);
      args.unshift(`--reuid=${asUser}`, `--regid=nogroup`, "--clear-groups", command);
      command = "setpriv";
    }
    const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${stderr}`);
          try {
            const rules = await fetch(`http://${host}:${port}/api/v1/rules`);
            return rules.ok && (await rules.text()).includes('"AthenaExporterDown"');
          } catch {
            return false;
          }
        },
        60_000,
        `README's prometheus command to serve its rules on ${host}:${port}`,
      );
      const storage = flag(words, "storage.tsdb.path") ?? "";
      assert.ok((await stat(join(dir, storage))).isDirectory(), "the storage is where the command says, in the checkout");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    return stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("README's Prometheus command", () => {
  it("keeps its own storage and port, away from the packaged service's, and names the UI's address", async () => {
    const words = await prometheusCommand();
    assert.equal(flag(words, "config.file"), "prometheus/prometheus.yml");
    const storage = flag(words, "storage.tsdb.path");
    assert.ok(storage !== undefined && !isAbsolute(storage), "a storage path in the checkout, not Debian's /var/lib/prometheus");
    const listen = flag(words, "web.listen-address") ?? "";
    const port = /:(\d+)$/.exec(listen)?.[1];
    assert.ok(port !== undefined && port !== "9090", `a port of its own, not the packaged service's 9090: ${listen}`);
    const readme = await readFile("README.md", "utf8");
    assert.ok(readme.includes(`<http://${listen}/alerts>`), `README names the UI's address, http://${listen}/alerts`);
  });

  it("runs as it stands, as this user, and as an ordinary user when this one is root", { timeout: 180_000 }, async () => {
    const words = await prometheusCommand();
    await runBriefly(words, undefined);
    if (process.getuid?.() === 0) await runBriefly(words, "nobody");
  });
});
