import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULTS, loadConfig, parseConfig } from "../../../src/config/config.js";
import { FAMILY_NAMES } from "../../../src/catalog/family-filter.js";
import { formatConfigError } from "../../../src/config/config-file.js";

const ID = "0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11";

function problems(yaml: string): string {
  const parsed = parseConfig(yaml, "config.yaml", FAMILY_NAMES);
  if (parsed.ok) assert.fail("expected the config to be refused");
  return formatConfigError(parsed.error);
}

describe("config", () => {
  it("reads the shipped config.yaml", async () => {
    const loaded = await loadConfig("config.yaml", FAMILY_NAMES);
    assert.ok(loaded.ok, loaded.ok ? "" : formatConfigError(loaded.error));
    assert.equal(loaded.value.aws.region, "us-east-1");
    assert.equal(loaded.value.calculations.length, 10);
    assert.equal(loaded.value.cache.ttlMs, 30_000);
  });

  it("fills every default when only calculations are given", () => {
    const parsed = parseConfig(`calculations: [${ID}]`, "c.yaml", FAMILY_NAMES);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      aws: {
        region: undefined,
        endpoint: undefined,
        maxAttempts: DEFAULTS.maxAttempts,
        retryMode: "standard",
        maxConcurrency: DEFAULTS.maxConcurrency,
        requestsPerSecond: 20,
        listRequestsPerSecond: 4,
        requestTimeoutMs: 10_000,
        role: undefined,
        stsEndpoint: undefined,
      },
      calculations: [ID],
      discovery: undefined,
      cache: { ttlMs: 30_000, maxEntries: DEFAULTS.cacheMaxEntries },
      scrape: { timeoutMs: 10_000 },
      cost: { dpuHourPriceUsd: 0.35 },
      targets: undefined,
      metrics: { allow: [], deny: [] },
    });
  });

  it("gives each target the top-level settings with its own region, role, calculations and discovery", () => {
    const parsed = parseConfig(
      [
        "aws: {region: us-east-1, requestsPerSecond: 7}",
        "targets:",
        "  - name: prod",
        "    region: eu-west-1",
        "    role: {arn: 'arn:aws:iam::111122223333:role/reader', externalId: abc123}",
        `    calculations: [${ID}]`,
        "  - name: dev",
        "    discovery: {workgroups: all}",
      ].join("\n"),
      "c.yaml",
      FAMILY_NAMES,
    );
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.problems.join("; "));
    const [prod, dev] = parsed.value.targets ?? [];
    assert.ok(prod && dev);
    assert.equal(prod.config.aws.region, "eu-west-1");
    assert.equal(prod.config.aws.requestsPerSecond, 7);
    assert.deepEqual(prod.config.aws.role, {
      arn: "arn:aws:iam::111122223333:role/reader",
      externalId: "abc123",
      sessionName: "athena-calculation-exporter",
    });
    assert.deepEqual(prod.config.calculations, [ID]);
    assert.equal(dev.config.aws.region, "us-east-1");
    assert.equal(dev.config.aws.role, undefined);
    assert.equal(dev.config.discovery?.workgroups, "all");
  });

  it("reads an empty file, a file of comments and {} alike: every default, nothing watched", () => {
    const empty = parseConfig("{}", "c.yaml", FAMILY_NAMES);
    assert.ok(empty.ok);
    assert.deepEqual(empty.value.calculations, []);
    assert.equal(empty.value.discovery, undefined);
    assert.equal(empty.value.cache.ttlMs, 30_000);
    for (const text of ["", "\n", "# nothing to watch yet\n"])
      assert.deepEqual(parseConfig(text, "c.yaml", FAMILY_NAMES), empty, JSON.stringify(text));
  });

  it("fills discovery's defaults when only its workgroups are given", () => {
    const parsed = parseConfig(`discovery: {workgroups: all}`, "c.yaml", FAMILY_NAMES);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.discovery, {
      workgroups: "all",
      intervalMs: 60_000,
      lookbackMs: 86_400_000,
      retentionMs: 21_600_000,
      workgroupTags: [],
    });
  });

  it("refuses a target that lists more calculations than cache.maxEntries holds, naming the target", () => {
    const parsed: { ok: boolean; error?: { problems: readonly string[] } } = parseConfig(
      [
        "cache: {maxEntries: 1}",
        "targets:",
        "  - {name: a, calculations: [0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11, 0f6b2b3e-2222-4c4b-9d07-6a8c0c2b5c12]}",
      ].join("\n"),
      "c.yaml",
      FAMILY_NAMES,
    );
    assert.equal(parsed.ok, false);
    assert.match(
      parsed.error?.problems.join("\n") ?? "",
      /targets\[0\]\.calculations: lists 2 calculations, more than cache\.maxEntries \(1\) holds/,
    );
  });

  it("refuses workgroup tag keys that would make the same label, naming the key", () => {
    const parsed: { ok: boolean; error?: { problems: readonly string[] } } = parseConfig(
      `discovery: {workgroups: all, workgroupTags: [cost-center, cost_center]}`,
      "c.yaml",
      FAMILY_NAMES,
    );
    assert.equal(parsed.ok, false);
    assert.match(parsed.error?.problems.join("\n") ?? "", /discovery\.workgroupTags: has two keys that make the same label/);
  });

  it("reads durations in Prometheus syntax", () => {
    const parsed = parseConfig(`calculations: []\ncache: {ttl: 1m30s}\naws: {requestTimeout: 250ms}`, "c.yaml", FAMILY_NAMES);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.cache.ttlMs, 90_000);
    assert.equal(parsed.value.aws.requestTimeoutMs, 250);
  });

  it("folds ID case so the same calculation is not watched twice", () => {
    assert.equal(
      problems(`calculations: [${ID}, ${ID.toUpperCase()}]`),
      `config.yaml: calculations[1]: duplicate ID ${ID.toUpperCase()} (also at calculations[0])`,
    );
  });

  const bad: [string, string, string][] = [
    [
      "an unknown top-level key",
      `calculations: []\ncalculation: []`,
      "config.yaml: calculation: unknown key (check its spelling and nesting)",
    ],
    ["an unknown nested key", `calculations: []\ncache: {tll: 5s}`, "config.yaml: cache.tll: unknown key (check its spelling and nesting)"],
    [
      "a bad duration",
      `calculations: []\ncache: {ttl: 5 minutes}`,
      'config.yaml: cache.ttl: "5 minutes" is not a duration: use a number with a unit, such as 30s, 5m, 1h30m or 250ms',
    ],
    [
      "a duration without unit",
      `calculations: []\ncache: {ttl: "30"}`,
      'config.yaml: cache.ttl: "30" is not a duration: use a number with a unit, such as 30s, 5m, 1h30m or 250ms',
    ],
    ["a zero TTL", `calculations: []\ncache: {ttl: 0s}`, "config.yaml: cache.ttl: must be longer than 0s"],
    [
      "a number as TTL",
      `calculations: []\ncache: {ttl: 30}`,
      'config.yaml: cache.ttl: 30 is a number without a unit: use a duration such as "30s" (ms, s, m, h, d or w)',
    ],
    [
      "a list as interval",
      `discovery: {workgroups: all, interval: [1m]}`,
      'config.yaml: discovery.interval: expected a duration such as "30s", got a list',
    ],
    [
      "a malformed ID",
      `calculations: [not-a-uuid]`,
      'config.yaml: calculations[0]: is not a calculation execution ID (Athena issues them as UUIDs), got string "not-a-uuid"',
    ],
    ["a duplicate ID", `calculations: [${ID}, ${ID}]`, `config.yaml: calculations[1]: duplicate ID ${ID} (also at calculations[0])`],
    ["calculations as a string", `calculations: ${ID}`, `config.yaml: calculations: expected a list, got string "${ID}"`],
    [
      "a bad region",
      `calculations: []\naws: {region: Virginia}`,
      'config.yaml: aws.region: is not an AWS region name, such as us-east-1, got string "Virginia"',
    ],
    [
      "a bad endpoint",
      `calculations: []\naws: {endpoint: "localhost:4566"}`,
      'config.yaml: aws.endpoint: must be an http:// or https:// URL, got string "localhost:4566"',
    ],
    ["zero attempts", `calculations: []\naws: {maxAttempts: 0}`, "config.yaml: aws.maxAttempts: must be at least 1, got number 0"],
    [
      "a fractional concurrency",
      `calculations: []\naws: {maxConcurrency: 2.5}`,
      "config.yaml: aws.maxConcurrency: expected a whole number, got number 2.5",
    ],
    [
      "a negative cache size",
      `calculations: []\ncache: {maxEntries: -5}`,
      "config.yaml: cache.maxEntries: must be at least 1, got number -5",
    ],
    [
      "a cache smaller than the watch list",
      `calculations: [${ID}, 0f6b2b3e-2222-4c4b-9d07-6a8c0c2b5c12]\ncache: {maxEntries: 1}`,
      "config.yaml: cache.maxEntries: 1 is less than the 2 calculations watched",
    ],
    [
      "a negative request rate",
      `calculations: []\naws: {requestsPerSecond: -1}`,
      "config.yaml: aws.requestsPerSecond: must be more than 0, got number -1",
    ],
    [
      "an unknown retry mode",
      `calculations: []\naws: {retryMode: legacy}`,
      'config.yaml: aws.retryMode: Invalid option: expected one of "standard"|"adaptive", got string "legacy"',
    ],
    [
      "discovery without workgroups",
      `discovery: {interval: 1m}`,
      'config.yaml: discovery.workgroups: must be "all" or a list of workgroup names',
    ],
    ["discovery of an empty list", `discovery: {workgroups: []}`, "config.yaml: discovery.workgroups: must list at least 1 item"],
    [
      "a bad discovery interval",
      `discovery: {workgroups: all, interval: often}`,
      'config.yaml: discovery.interval: "often" is not a duration: use a number with a unit, such as 30s, 5m, 1h30m or 250ms',
    ],
    [
      "a bad role ARN",
      `calculations: []\naws: {role: {arn: "arn:aws:iam::12:user/bob"}}`,
      'config.yaml: aws.role.arn: is not an IAM role ARN, such as arn:aws:iam::111122223333:role/name, got string "arn:aws:iam::12:user/bob"',
    ],
    ["two targets of one name", "targets: [{name: a}, {name: a}]", "config.yaml: targets[1].name: duplicate target name a"],
    [
      "calculations beside targets",
      `calculations: [${ID}]\ntargets: [{name: a}]`,
      "config.yaml: targets: with targets, calculations and discovery go under each target, not at the top level",
    ],
    ["a list at the top", "- a\n- b", "config.yaml: (top level): expected a mapping, got a list"],
    [
      "a YAML syntax error",
      "calculations: [a, b",
      "config.yaml: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 20",
    ],
    ["a repeated key", "calculations: []\ncalculations: []", "config.yaml: YAML syntax error: Map keys must be unique at line 2, column 1"],
  ];
  for (const [what, yaml, message] of bad) {
    it(`refuses ${what} with a message naming the key`, () => {
      assert.equal(problems(yaml), message);
    });
  }

  it("never repeats the password of a URL it refuses", () => {
    assert.equal(
      problems(`aws: {endpoint: "ftp://user:s3cret@x"}`),
      'config.yaml: aws.endpoint: must be an http:// or https:// URL, got string "ftp://***@x"',
    );
    assert.equal(
      problems(`targets: [{name: a, endpoint: "gopher://admin:s3cret@h:70/"}]`),
      'config.yaml: targets[0].endpoint: must be an http:// or https:// URL, got string "gopher://***@h:70/"',
    );
  });

  const long = "x".repeat(10_000);
  const longValues: [string, string, string][] = [
    ["a region", `aws: {region: ${long}}`, "aws.region: is not an AWS region name"],
    ["a duration", `cache: {ttl: ${long}}`, "cache.ttl: "],
    ["an unknown key", `? ${long}\n: 1`, ": unknown key (check its spelling and nesting)"],
    ["a retry mode", `aws: {retryMode: ${long}}`, "aws.retryMode: Invalid option"],
  ];
  for (const [what, yaml, names] of longValues) {
    it(`cuts a 10,000-character bad value short in its message, still naming the key: ${what}`, () => {
      const message = problems(yaml);
      assert.ok(message.length < 300, `${message.length} characters: ${message.slice(0, 400)}`);
      assert.ok(message.includes(names), message);
      assert.ok(message.includes("xxx…"), message);
    });
  }

  it("refuses an alias without its anchor as a syntax error, hiding a URL's password", () => {
    assert.equal(
      problems("calculations: [*https://user:s3cret@host]"),
      "config.yaml: YAML syntax error: Unresolved alias (the anchor must be set before the alias): https://***@host",
    );
  });

  it("lists every problem of a file at once", () => {
    assert.equal(
      problems(`calculations: [x]\ncache: {ttl: soon}`),
      'config.yaml:\n  - calculations[0]: is not a calculation execution ID (Athena issues them as UUIDs), got string "x"\n  - cache.ttl: "soon" is not a duration: use a number with a unit, such as 30s, 5m, 1h30m or 250ms',
    );
  });

  it("names the path of a missing file", async () => {
    const loaded = await loadConfig("/nonexistent/exporter.yaml", FAMILY_NAMES);
    if (loaded.ok) assert.fail("a missing file was read");
    assert.equal(formatConfigError(loaded.error), "/nonexistent/exporter.yaml: cannot read config file: no such file");
  });

  it("names the path of a directory given as the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ace-config-"));
    try {
      const loaded = await loadConfig(dir, FAMILY_NAMES);
      assert.equal(loaded.ok ? "" : formatConfigError(loaded.error), `${dir}: cannot read config file: is a directory, not a file`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("names the path of an unreadable file", { skip: process.getuid?.() === 0 ? "root reads any file" : false }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "ace-config-"));
    const file = join(dir, "config.yaml");
    try {
      await writeFile(file, "calculations: []");
      await chmod(file, 0o000);
      const loaded = await loadConfig(file, FAMILY_NAMES);
      assert.equal(loaded.ok ? "" : formatConfigError(loaded.error), `${file}: cannot read config file: permission denied`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
