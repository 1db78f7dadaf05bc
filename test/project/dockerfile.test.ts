import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { DockerfileParser } from "dockerfile-ast";
import { DEFAULT_PORT } from "../../src/cli/flags.js";

// No Docker engine runs here: the image's properties are checked on the
// parsed Dockerfile instead.
async function stages(): Promise<{ from: string; instructions: { keyword: string; args: string }[] }[]> {
  const dockerfile = DockerfileParser.parse(await readFile("Dockerfile", "utf8"));
  const out: { from: string; instructions: { keyword: string; args: string }[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArgumentsContent() ?? "";
    if (keyword === "FROM") out.push({ from: args, instructions: [] });
    out.at(-1)?.instructions.push({ keyword, args });
  }
  return out;
}

describe("Dockerfile", () => {
  it("builds in one stage and runs from another, on pinned Node.js 22", async () => {
    const all = await stages();
    assert.ok(all.length >= 2, "not a multi-stage build");
    for (const stage of all) assert.match(stage.from, /^node:22[-.\w]*( AS \w+)?$/i);
  });

  it("keeps only production dependencies in the final image", async () => {
    const all = await stages();
    const build = all
      .slice(0, -1)
      .flatMap((s) => s.instructions.map((i) => i.args))
      .join("\n");
    assert.match(build, /npm prune --omit=dev|npm ci --omit=dev/);
    const final = all.at(-1)?.instructions ?? [];
    assert.ok(
      !final.some((i) => i.keyword === "COPY" && /\bsrc\b|\btest\b/.test(i.args) && !i.args.includes("--from")),
      "sources copied into the final image",
    );
  });

  it("runs as a non-root user, with a health check on /-/healthy and the default port", async () => {
    const final = (await stages()).at(-1)?.instructions ?? [];
    const user = final.filter((i) => i.keyword === "USER").at(-1)?.args;
    assert.ok(user !== undefined && user !== "root" && user !== "0", `final user is ${String(user)}`);
    const health = final.find((i) => i.keyword === "HEALTHCHECK")?.args ?? "";
    // The check itself is a script of the image (test/e2e/health.test.ts runs it against TLS and basic auth).
    assert.match(health, /CMD \["node", "dist\/cli\/healthcheck\.js"\]/);
    assert.match(await readFile("src/cli/healthcheck.ts", "utf8"), /\/-\/healthy/);
    assert.ok(final.some((i) => i.keyword === "EXPOSE" && i.args === String(DEFAULT_PORT)));
  });

  it("starts node directly in exec form, so SIGTERM reaches the exporter", async () => {
    const final = (await stages()).at(-1)?.instructions ?? [];
    const entrypoint = final.find((i) => i.keyword === "ENTRYPOINT")?.args ?? "";
    assert.match(entrypoint, /^\["node", "--max-semi-space-size=2", "dist\/main.js"\]$/);
  });

  it("writes nothing at run time, so a read-only root filesystem works", async () => {
    const final = (await stages()).at(-1)?.instructions ?? [];
    assert.ok(!final.some((i) => i.keyword === "VOLUME"), "a VOLUME implies writes");
    assert.ok(!final.some((i) => i.keyword === "RUN" && /mkdir|chmod|touch/.test(i.args)), "the image prepares writable paths");
  });
});
