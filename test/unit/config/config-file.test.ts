import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import { loadConfig } from "../../../src/config/config.js";
import { FAMILY_NAMES } from "../../../src/catalog/family-filter.js";
import {
  configError,
  formatConfigError,
  parseYaml,
  readConfigFile,
  validate,
  type ConfigErrorCode,
} from "../../../src/config/config-file.js";
import { loadWebConfig } from "../../../src/config/web-config.js";

const strict = z.strictObject({ port: z.int().min(1), name: z.string().regex(/^[a-z]+$/, { message: "must be lower-case letters" }) });

describe("config file", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-config-file-"));
  });
  after(async () => {
    await rm(dir, { recursive: true });
  });

  const cases: [string, string | undefined, ConfigErrorCode][] = [
    ["a missing file", undefined, "unreadable"],
    ["a YAML syntax error", "calculations: [a, b", "syntax"],
    ["an alias without its anchor", "calculations: [*nowhere]", "syntax"],
    ["an invalid value", "calculations: [not-a-uuid]", "invalid"],
  ];
  for (const [what, text, code] of cases) {
    it(`gives ${what} the code ${code}, for the config and the web config alike`, async () => {
      const file = join(dir, `${code}-${what.replace(/\W/g, "-")}.yaml`);
      if (text !== undefined) await writeFile(file, text);
      const config = await loadConfig(file, FAMILY_NAMES);
      if (config.ok) assert.fail("accepted");
      assert.equal(config.error.code, code);
      assert.equal(config.error.source, file);
      const web = await loadWebConfig(file);
      if (web.ok) assert.fail("accepted");
      assert.equal(web.error.code, code);
    });
  }

  it("reads an empty file as the empty configuration, for the config and the web config alike", async () => {
    const file = join(dir, "empty.yaml");
    await writeFile(file, "# nothing yet\n");
    const config = await loadConfig(file, FAMILY_NAMES);
    assert.ok(config.ok, config.ok ? "" : formatConfigError(config.error));
    assert.deepEqual(config.value.calculations, []);
    const web = await loadWebConfig(file);
    assert.ok(web.ok, web.ok ? "" : formatConfigError(web.error));
    assert.equal(web.value.tls, undefined);
    assert.equal(web.value.basicAuthUsers.size, 0);
  });

  it("names why a file cannot be read", async () => {
    const missing = await readConfigFile(join(dir, "nope.yaml"), "web config file");
    assert.equal(
      missing.ok ? "" : formatConfigError(missing.error),
      `${join(dir, "nope.yaml")}: cannot read web config file: no such file`,
    );
    const directory = await readConfigFile(dir, "config file");
    assert.equal(directory.ok ? "" : formatConfigError(directory.error), `${dir}: cannot read config file: is a directory, not a file`);
  });

  it("reads an empty document as null, for the caller to decide", () => {
    assert.deepEqual(parseYaml("", "f.yaml"), { ok: true, value: null });
    assert.deepEqual(parseYaml("# only a comment\n", "f.yaml"), { ok: true, value: null });
  });

  it("refuses a file of too many aliases rather than expanding it", () => {
    const laughs = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ..."bcdefgh".split("").map(
        (k, i) =>
          `${k}: &${k} [${Array(10)
            .fill(`*${"abcdefgh"[i] ?? ""}`)
            .join(", ")}]`,
      ),
    ].join("\n");
    const parsed = parseYaml(laughs, "f.yaml");
    if (parsed.ok) assert.fail("expanded");
    assert.equal(parsed.error.code, "syntax");
    assert.match(parsed.error.problems[0] ?? "", /^YAML syntax error: /);
  });

  it("shows a bad value when asked to, cut short and with no URL password", () => {
    const result = validate(strict, { port: "https://u:s3cret@h/" + "x".repeat(500), name: "ok" }, "f.yaml", {
      unknownKey: "unknown key",
      echoValues: true,
    });
    if (result.ok) assert.fail("accepted");
    const [problem = ""] = result.error.problems;
    assert.match(problem, /^port: expected a number, got string "https:\/\/\*\*\*@h\/x+…$/);
    assert.ok(!problem.includes("s3cret"));
  });

  it("shows only the type of a bad value when values may be secrets", () => {
    const result = validate(strict, { port: "hunter2", name: "Hunter2", extra: 1 }, "web.yml", {
      unknownKey: "not supported",
      echoValues: false,
    });
    if (result.ok) assert.fail("accepted");
    assert.deepEqual(result.error.problems, [
      "port: expected a number, got a string",
      "name: must be lower-case letters",
      "extra: not supported",
    ]);
  });

  it("keeps every problem on one line, so a log line or an HTTP answer cannot be split", () => {
    const error = configError("invalid", "f.yaml", ["a: first\nsecond line", "b: ok"]);
    assert.deepEqual(error.problems, ["a: first second line", "b: ok"]);
    assert.equal(formatConfigError(error), "f.yaml:\n  - a: first second line\n  - b: ok");
  });
});
