import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// `npm run build` and `prestart`: tsc into dist/, one build at a time per checkout.
// Three `npm start` from one checkout at once would otherwise race three builds
// into one dist/ (one deleting files another just wrote). A lock file serialises
// them; with --if-stale, a build that finds dist/ already built from the same
// sources skips, so the second and third start reuse the first one's output.

const LOCK = ".build.lock";
const STAMP = join("dist", ".build-fingerprint");
const LOCK_TIMEOUT_MS = 5 * 60_000;

/** What dist/ is built from: every source's path, size and mtime. */
function fingerprint(): string {
  const hash = createHash("sha256");
  const visit = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else {
      hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  for (const path of ["src", "tsconfig.json", "tsconfig.build.json", "package.json"]) visit(path);
  return hash.digest("hex");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock, waiting for another build; a lock left by a killed build is taken over. */
async function lock(): Promise<void> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(LOCK, "utf8"));
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a lock being written this instant: its holder is alive.
    if (holder > 0 && !isAlive(holder)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build has held ${LOCK} for ${LOCK_TIMEOUT_MS / 1000}s (pid ${holder})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readStamp(): string | undefined {
  try {
    return readFileSync(STAMP, "utf8");
  } catch {
    return undefined;
  }
}

async function build(ifStale: boolean): Promise<number> {
  await lock();
  try {
    const sources = fingerprint();
    if (ifStale && readStamp() === sources) return 0;
    rmSync("dist", { recursive: true, force: true });
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const out = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
    if (out.status !== 0) return out.status ?? 1;
    writeFileSync(STAMP, sources);
    return 0;
  } finally {
    try {
      unlinkSync(LOCK);
    } catch {
      // already gone: nothing to release
    }
  }
}

build(process.argv.includes("--if-stale")).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
