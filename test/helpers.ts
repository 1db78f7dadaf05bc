import { execFileSync, spawnSync } from "node:child_process";
import { request, type IncomingHttpHeaders } from "node:http";
import { Writable } from "node:stream";
import type { TestContext } from "node:test";
import { pino, type Logger } from "pino";
import { sdkAthenaApis, type AwsCredentials } from "../src/athena/client.js";
import { loadConfig } from "../src/config/config.js";
import { FAMILY_NAMES } from "../src/catalog/family-filter.js";
import { SINGLE_SHARD, type Shard } from "../src/shard.js";
import { SYSTEM_CLOCK } from "../src/clock.js";
import { createHttpApp } from "../src/http/app.js";
import { ok } from "../src/result.js";
import { ProcessMetrics } from "../src/self/metrics.js";
import { Targets } from "../src/targets.js";
import { startServer, type ConfigSource, type RunningServer } from "../src/http/start-server.js";
import type { TargetDeps } from "../src/target.js";
import { parseConfig, type ExporterConfig } from "../src/config/config.js";
import { AthenaSimulator, type SimulatorOptions } from "../simulator/server.js";

export const TEST_CREDENTIALS = { accessKeyId: "AKIDEXPORTERTEST", secretAccessKey: "test-secret-do-not-log" };

/** A logger whose JSON lines are kept for assertions instead of printed. */
export function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, sink);
  return {
    logger,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>), // pino writes one JSON object per line
  };
}

/** What a test's targets are built from: the real SDK against the simulator, signed with test credentials. */
export function testDeps(logger: Logger, options: { now?: () => number; shard?: Shard; credentials?: AwsCredentials } = {}): TargetDeps {
  return {
    logger,
    clock: { now: options.now ?? (() => Date.now()) },
    shard: options.shard ?? SINGLE_SHARD,
    athenaApis: sdkAthenaApis(options.credentials ?? TEST_CREDENTIALS),
  };
}

/** Reloads that read `file`, as the command line's do. */
export function fileSource(file: string): ConfigSource {
  return { name: file, read: () => loadConfig(file, FAMILY_NAMES) };
}

export function testConfig(yaml: string): ExporterConfig {
  const parsed = parseConfig(yaml, "test.yaml", FAMILY_NAMES);
  if (!parsed.ok) throw new Error(`bad test config: ${parsed.error.problems.join("; ")}`);
  return parsed.value;
}

export interface Stack {
  readonly simulator: AthenaSimulator;
  /** The simulator's URL, as the exporter's aws.endpoint names it. */
  readonly endpoint: string;
  readonly server: RunningServer;
  readonly logs: () => Record<string, unknown>[];
  scrape(headers?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/** The simulator and an exporter against it through the real SDK, both on loopback. */
export async function startStack(
  setup: (simulator: AthenaSimulator) => {
    calculations: readonly string[];
    extraYaml?: string;
    /** Keys of the config's aws block, over the test defaults. */
    aws?: Record<string, string | number>;
  },
  options: SimulatorOptions & { now?: () => number } = {},
): Promise<Stack> {
  const simulator = new AthenaSimulator(options);
  const { calculations, extraYaml, aws } = setup(simulator);
  const url = await simulator.start(0, "127.0.0.1");
  // Tests are not throttled unless they ask to be.
  const awsKeys = {
    region: "us-east-1",
    endpoint: url,
    // The simulator answers STS as well: no test ever reaches AWS.
    stsEndpoint: url,
    maxAttempts: 1,
    requestTimeout: "2s",
    requestsPerSecond: 1000,
    listRequestsPerSecond: 1000,
    ...aws,
  };
  const yaml = [
    "aws:",
    ...Object.entries(awsKeys).map(([k, v]) => `  ${k}: ${String(v)}`),
    `calculations: [${calculations.join(", ")}]`,
    extraYaml ?? "",
  ].join("\n");
  const { logger, lines } = memoryLogger();
  const server = await startServer(
    testConfig(yaml),
    { host: "127.0.0.1", port: 0 },
    { deps: testDeps(logger, options.now === undefined ? {} : { now: options.now }) },
  );
  return {
    simulator,
    endpoint: url,
    server,
    logs: lines,
    async scrape(headers = {}) {
      const res = await fetch(`${server.url}/metrics`, { headers });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    async stop() {
      await server.close();
      await simulator.stop();
    },
  };
}

/**
 * startStack for one test: the stack stops when the test ends, pass or fail,
 * so the test holds only the lines that differ.
 */
export async function stackFor(t: TestContext, ...args: Parameters<typeof startStack>): Promise<Stack> {
  const stack = await startStack(...args);
  t.after(() => stack.stop());
  return stack;
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

// "s": label values may hold any character but an unescaped newline, U+2028 and U+2029 included.
const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/s;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Reads text exposition into samples; throws on a line that is not valid. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_RE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? "").matchAll(LABEL_RE)) {
      labels[l[1] ?? ""] = (l[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    const raw = match[3] ?? "";
    samples.push({ name: match[1] ?? "", labels, value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw) });
  }
  return samples;
}

/** The value of the one sample matching name and labels; undefined when absent, an error when ambiguous. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parseExposition(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/**
 * Whether every session the text shows has had its executors listed once. Listings land between
 * scrapes (a scrape does not wait for them beyond the calculations), so a test that compares two
 * bodies waits for this first.
 */
export function executorsListed(text: string): boolean {
  const samples = parseExposition(text);
  const listed = new Set(samples.filter((s) => s.name === "athena_session_executors").map((s) => s.labels.session_id));
  return samples.filter((s) => s.name === "athena_session_up").every((s) => listed.has(s.labels.session_id));
}

export function samplesOf(text: string, name: string): Sample[] {
  return parseExposition(text).filter((s) => s.name === name);
}

const INSTALL_HINTS = {
  promtool: "install Debian's prometheus package (apt-get update && apt-get install -y prometheus), as .ci/run does",
  prometheus: "install Debian's prometheus package (apt-get update && apt-get install -y prometheus), as .ci/run does",
  "prometheus-alertmanager":
    "install Debian's prometheus-alertmanager package (apt-get update && apt-get install -y prometheus-alertmanager), as .ci/run does",
  amtool:
    "install Debian's prometheus-alertmanager package (apt-get update && apt-get install -y prometheus-alertmanager), as .ci/run does",
  openssl: "install Debian's openssl package (apt-get update && apt-get install -y openssl), as .ci/run does",
} as const;

/** Path of a tool a test needs; fails the test with its install hint when it is missing, never skips. */
export function requireBinary(name: keyof typeof INSTALL_HINTS): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === "") throw new Error(`${name} is not installed: ${INSTALL_HINTS[name]}`);
  return path;
}

/** Runs `promtool check metrics` on exposition text; returns its complaints ("" when clean). */
export function promtoolCheckMetrics(text: string): string {
  const promtool = requireBinary("promtool");
  try {
    execFileSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    return "";
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string }; // execFileSync's error carries the output
    return `${stdout ?? ""}${stderr ?? ""}`.trim() || "promtool failed";
  }
}

/** Scrapes until `check` accepts the text (10 s at most), and gives that text. */
export async function scrapeUntil(
  stack: { scrape: () => Promise<string> },
  check: (text: string) => boolean,
  what: string,
): Promise<string> {
  let text = "";
  await waitFor(
    async () => {
      text = await stack.scrape();
      return check(text);
    },
    10_000,
    what,
  );
  return text;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request: fetch and supertest add an Accept-Encoding of their own and decode the body. */
export function rawRequest(url: string, headers: Record<string, string>, method = "GET"): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * The HTTP surface alone, watching nothing: for tests of routes, methods and
 * headers. Its Athena APIs are a double that never fails (the e2e tests cover
 * the real SDK against the simulator).
 */
export function emptyHttpApp(): ReturnType<typeof createHttpApp> {
  const { logger } = memoryLogger();
  const processMetrics = new ProcessMetrics();
  const targets = new Targets(
    testConfig("calculations: []"),
    {
      logger,
      clock: SYSTEM_CLOCK,
      shard: SINGLE_SHARD,
      athenaApis: () => ({
        getCalculation: () => Promise.reject(new Error("not used")),
        getSession: () => Promise.reject(new Error("not used")),
        getWorkGroup: () => Promise.reject(new Error("not used")),
        listWorkGroupTags: () => Promise.reject(new Error("not used")),
        listWorkGroups: () => Promise.resolve(ok([])),
        listSessions: () => Promise.resolve(ok([])),
        listCalculations: () => Promise.resolve(ok([])),
        listExecutors: () => Promise.resolve(ok([])),
      }),
    },
    processMetrics,
  );
  return createHttpApp(targets, processMetrics, { logger });
}
