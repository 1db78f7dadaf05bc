import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { formatConfigError } from "../../../src/config/config-file.js";
import { loadWebConfig } from "../../../src/config/web-config.js";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run hash-password`'s command with `input` piped on stdin. */
async function hashPassword(input: string): Promise<Run> {
  const scripts = (JSON.parse(await readFile("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
  const [command, ...args] = (scripts["hash-password"] ?? "").split(" ");
  assert.equal(command, "node", "the script runs node directly");
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

describe("npm run hash-password", () => {
  it("prints a bcrypt hash of the password piped on stdin that the web config takes and that checks the password", async () => {
    const password = "correct horse battery staple";
    const run = await hashPassword(`${password}\n`);
    assert.equal(run.code, 0, run.stderr);
    const hash = run.stdout.trim();
    assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password), "the password is never printed");
    assert.equal(await bcrypt.compare(password, hash), true, "the hash checks the password without its newline");
    assert.equal(await bcrypt.compare(`${password}\n`, hash), false);
    const dir = await mkdtemp(join(tmpdir(), "ace-hash-password-"));
    try {
      const file = join(dir, "web.yml");
      await writeFile(file, `basic_auth_users:\n  prometheus: ${hash}\n`);
      const web = await loadWebConfig(file);
      assert.ok(web.ok, web.ok ? "" : formatConfigError(web.error));
      assert.equal(web.value.basicAuthUsers.get("prometheus"), hash);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("refuses an empty password with one line and a non-zero exit", async () => {
    const run = await hashPassword("");
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, "hash-password: the password is empty: type one, or pipe it on stdin\n");
  });

  it("refuses a password longer than bcrypt checks", async () => {
    const run = await hashPassword("x".repeat(73));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /longer than 72 bytes/);
  });

  it("is what the web config's error about a plain-text password points to", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ace-hash-password-"));
    try {
      const file = join(dir, "web.yml");
      await writeFile(file, "basic_auth_users:\n  alice: hunter2\n");
      const web = await loadWebConfig(file);
      assert.ok(!web.ok);
      assert.match(
        formatConfigError(web.error),
        /basic_auth_users\.alice: must be a bcrypt hash \(npm run --silent hash-password prints one\)/,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
