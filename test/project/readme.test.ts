import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import { parse } from "yaml";
import { mixinConfig } from "../../mixin/config.js";
import { THROTTLING } from "../../simulator/demo-stream.js";
import { parseConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { formatConfigError } from "../../src/config/config-file.js";
import { loadWebConfig } from "../../src/config/web-config.js";
import { ALL_FAMILIES } from "../../src/catalog/families.js";
import { withMetricsTable } from "../../src/catalog/metrics-table.js";
import { parseExposition, requireBinary, startStack } from "../helpers.js";

interface Shape {
  readonly type: string;
  readonly labels: string;
}

/** Each family of a scrape with its type and sorted label names, prom-client's process_* and nodejs_* defaults aside. */
function scrapedFamilies(text: string): Map<string, Shape> {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]));
  const labels = new Map<string, Set<string>>();
  for (const sample of parseExposition(text)) {
    const family = types.has(sample.name) ? sample.name : sample.name.replace(/_(bucket|sum|count)$/, "");
    const names = Object.keys(sample.labels).filter((l) => !(l === "le" && types.get(family) === "histogram"));
    // One family's samples all carry the same label names.
    const known = labels.get(family);
    if (known !== undefined) assert.deepEqual([...names].sort(), [...known].sort(), `label names of ${family}`);
    labels.set(family, new Set(names));
  }
  const families = new Map<string, Shape>();
  for (const [name, type] of types) {
    if (name.startsWith("process_") || name.startsWith("nodejs_")) continue;
    families.set(name, { type, labels: [...(labels.get(name) ?? [])].sort().join(",") });
  }
  return families;
}

// Like kube-state-metrics' doccheck: README's metric table comes from the
// family lists (npm run generate:readme), and a real scrape matches them.
describe("README", () => {
  it("has the metric table generated from the family lists (run npm run generate:readme)", async () => {
    const readme = await readFile("README.md", "utf8");
    assert.equal(readme, withMetricsTable(readme, ALL_FAMILIES));
  });

  it("lists every family a scrape exposes with its type and label names, and no other", async () => {
    const MISSING = "00000000-0000-4000-8000-000000000404";
    const stack = await startStack((sim) => {
      const session = sim.state.addSession("wg");
      const failed = sim.state.addCalculation({
        sessionId: session.id,
        state: "FAILED",
        stateChangeReason: "OutOfMemoryError",
        submittedAtMs: 1_700_000_000_000,
        completedAtMs: 1_700_000_042_000,
        dpuExecutionMillis: 10,
      }).id;
      const running = sim.state.addCalculation({
        sessionId: session.id,
        state: "RUNNING",
        progress: "Stage 2/4",
        submittedAtMs: 1_700_000_000_000,
      }).id;
      // Sessions in every situation, discovered in a workgroup of their own: idle, degraded with a
      // reason, ended in failure, and one that fails to refresh.
      sim.state.addSession("side", { idleSinceMs: 1_700_000_000_000 });
      sim.state.addSession("side", { state: "DEGRADED", stateChangeReason: "executor lost" });
      sim.state.addSession("side", { state: "FAILED", stateChangeReason: "out of memory", endedAtMs: Date.now() });
      const failing = sim.state.addSession("side").id;
      sim.injectFault({ kind: "InternalServerException", operation: "GetSession", resourceId: failing });
      sim.state.tagWorkGroup("side", { team: "platform" });
      return {
        calculations: [failed, running, MISSING],
        extraYaml: "discovery: {workgroups: [side], interval: 1h, workgroupTags: [team]}",
      };
    });
    try {
      await new Promise((r) => setTimeout(r, 300)); // the first discovery run
      await stack.scrape();
      const scraped = scrapedFamilies(await stack.scrape());
      // prom-client shows a family without series (target_info here) by its # lines alone: no label names to compare.
      const listed = new Map(ALL_FAMILIES.map((f) => [f.name, { type: f.type, labels: [...f.labelNames].sort().join(",") }]));
      for (const [name, shape] of scraped) {
        const spec = listed.get(name);
        assert.ok(spec, `${name} is exposed but in no family list`);
        assert.equal(shape.type, spec.type, `type of ${name}`);
        // athena_workgroup_tags's tag_<key> labels come from the configuration, so its list names the fixed ones alone.
        const fixed = shape.labels
          .split(",")
          .filter((l) => !l.startsWith("tag_"))
          .join(",");
        if (shape.labels !== "") assert.equal(fixed, spec.labels, `label names of ${name}`);
      }
      assert.deepEqual(
        [...listed.keys()].filter((name) => !scraped.has(name)),
        [],
        "listed but not exposed",
      );
    } finally {
      await stack.stop();
    }
  });

  it("opens with the two commands for a fresh clone", async () => {
    const readme = await readFile("README.md", "utf8");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    assert.match(firstBlock, /^npm ci && npm run demo/m);
    assert.match(firstBlock, /^npm ci && npm test/m);
  });

  it("names the test command that .ci/run runs", async () => {
    const ci = await readFile(".ci/run", "utf8");
    assert.match(ci, /^npm test$/m);
  });
});

/** The fenced code blocks of a Markdown text, with their language. */
function codeBlocks(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? "", body: m[2] ?? "" }));
}

const readReadme = (): Promise<string> => readFile("README.md", "utf8");
/** The files a user reads examples in: README and the comments of the shipped files. */
const SHIPPED = [
  "README.md",
  "config.yaml",
  "prometheus/prometheus.yml",
  "prometheus/runbook.md",
  "grafana/provisioning/dashboards/athena.yml",
];

// Every example README and the shipped files give is run through what the program itself uses to read it.
describe("README's examples", () => {
  it("has every YAML block a config or web config the exporter's own loaders accept (the Alertmanager one aside)", async (t) => {
    const blocks = codeBlocks(await readReadme()).filter((b) => b.lang === "yaml");
    const dir = await mkdtemp(join(tmpdir(), "ace-readme-"));
    t.after(() => rm(dir, { recursive: true }));
    let configs = 0;
    let webConfigs = 0;
    for (const [i, { body }] of blocks.entries()) {
      if (/^route:/m.test(body)) continue; // Alertmanager's, checked by test/mixin
      if (/^(tls_server_config|basic_auth_users):/m.test(body)) {
        // Its cert_file and key_file are relative to the file: a real pair sits beside it.
        const openssl = requireBinary("openssl");
        const crt = join(dir, "server.crt");
        const key = join(dir, "server.key");
        execFileSync(
          openssl,
          ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
            "-keyout",
            key,
            "-out",
            crt,
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
          ]),
          { stdio: "ignore" },
        );
        const file = join(dir, `web-${i}.yml`);
        await writeFile(file, body);
        const web = await loadWebConfig(file);
        assert.ok(web.ok, web.ok ? "" : formatConfigError(web.error));
        webConfigs++;
        continue;
      }
      const parsed = parseConfig(body, `README's YAML block ${i}`, FAMILY_NAMES);
      assert.ok(parsed.ok, parsed.ok ? "" : formatConfigError(parsed.error));
      configs++;
    }
    assert.ok(configs >= 1 && webConfigs >= 1, `checked ${configs} configs and ${webConfigs} web configs`);
  });

  it("has PromQL that parses and JSON that parses", async () => {
    const blocks = codeBlocks(await readReadme());
    const promql = blocks.filter((b) => b.lang === "promql");
    assert.ok(promql.length > 0);
    for (const { body } of promql) {
      const cursor = parser.parse(body).cursor();
      do assert.ok(!cursor.type.isError, `PromQL syntax error at ${cursor.from}: ${body.slice(cursor.from, cursor.from + 40)}`);
      while (cursor.next());
    }
    for (const { body } of blocks.filter((b) => b.lang === "json")) assert.doesNotThrow(() => JSON.parse(body) as unknown);
  });

  it("names only npm scripts that package.json has", async () => {
    const scripts = (JSON.parse(await readFile("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const file of SHIPPED) {
      const text = await readFile(file, "utf8");
      for (const [, name] of text.matchAll(/npm run (?:--silent )?([\w:-]+)/g)) {
        assert.ok(name !== undefined && name in scripts, `${file} names npm run ${name ?? ""}, which package.json lacks`);
      }
    }
  });

  it("names only flags that --help lists, in its flag table and its npm start and npm run demo lines", async () => {
    const readme = await readReadme();
    const help = execFileSync(process.execPath, ["--import", "tsx", "src/main.ts", "--help"], { encoding: "utf8" });
    const table = [...readme.matchAll(/^\| `(-[^`]+)`(?:, `(-[^`]+)`)? \|/gm)].flatMap((m) => [m[1], m[2]]);
    const commands = [...readme.matchAll(/npm (?:start|run demo) -- ([^`\n]+)/g)].flatMap((m) =>
      [...(m[1] ?? "").matchAll(/(--?[\w.-]+)=?/g)].map((f) => f[1]),
    );
    const flags = [...table, ...commands].filter((f): f is string => f !== undefined);
    assert.ok(flags.length >= 8, `found ${flags.join(" ")}`);
    for (const flag of flags)
      assert.match(help, new RegExp(`(^|[\\s,])${flag.replace(/\./g, "\\.")}[=\\s,]`, "m"), `${flag} is not in --help`);
  });

  it("names only metrics the exporter defines", async () => {
    const defined = new Set(ALL_FAMILIES.flatMap((f) => [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`]));
    for (const file of SHIPPED) {
      const text = await readFile(file, "utf8");
      const named = [...text.matchAll(/\bathena_[a-z0-9_]*[a-z0-9]\b/g)].map((m) => m[0]);
      // athena_calculation_* and athena_session_* name a group of families.
      const unknown = named.filter((name) => !defined.has(name) && !text.includes(`${name}_*`));
      assert.deepEqual([...new Set(unknown)], [], `${file} names metrics the exporter does not define`);
    }
  });

  it("says the shipped config.yaml points nowhere but AWS, and its commented examples are valid when uncommented", async () => {
    const text = await readFile("config.yaml", "utf8");
    const shipped = parseConfig(text, "config.yaml", FAMILY_NAMES);
    assert.ok(shipped.ok);
    assert.equal(shipped.value.aws.endpoint, undefined, "README says the shipped file sets no aws.endpoint");
    assert.match(await readReadme(), /its `aws\.endpoint` is a comment/);
    // Uncomment the endpoint and the discovery block, as their comments invite.
    const uncommented = text.replace(/^(\s*)# (endpoint: )/m, "$1$2").replace(/^# (discovery:|metrics:| {2}\w+: )/gm, "$1");
    const parsed = parseConfig(uncommented, "config.yaml, uncommented", FAMILY_NAMES);
    assert.ok(parsed.ok, parsed.ok ? "" : formatConfigError(parsed.error));
    assert.equal(parsed.value.aws.endpoint, "http://127.0.0.1:4566");
    assert.equal(parsed.value.discovery?.workgroups, "all");
    assert.deepEqual(parsed.value.discovery.workgroupTags, ["team", "cost-center"]);
  });

  it("has Grafana's provisioning comment mount what the provider reads", async () => {
    const text = await readFile("grafana/provisioning/dashboards/athena.yml", "utf8");
    const provider = (parse(text) as { providers: { options: { path: string } }[] }).providers[0];
    const mounts = new Map([...text.matchAll(/-v "\$PWD\/([^:]+):([^"]+)"/g)].map((m) => [m[2] ?? "", m[1] ?? ""]));
    assert.equal(
      mounts.get("/etc/grafana/provisioning"),
      "grafana/provisioning",
      "Grafana reads provisioning from /etc/grafana/provisioning",
    );
    assert.ok(provider !== undefined);
    const dashboards = mounts.get(provider.options.path);
    assert.equal(dashboards, "grafana/dashboards", `the provider's path ${provider.options.path} is mounted from grafana/dashboards`);
    for (const host of mounts.values()) assert.ok((await stat(host)).isDirectory(), `${host} exists`);
    assert.match(text, /mount grafana\/provisioning at\n# \/etc\/grafana\/provisioning/);
  });

  it("tells when the demo's throttling storm fires AthenaExporterThrottled, as the rule and the stream agree", async () => {
    const readme = await readReadme();
    const perSecond = THROTTLING.perMinute / 60;
    const threshold = mixinConfig.throttledAttemptsPerSecond;
    assert.ok(perSecond > threshold, `${String(perSecond)}/s must be above the rule's ${String(threshold)}/s`);
    const rule = await readFile("prometheus/alerts.yml", "utf8");
    assert.match(
      rule,
      new RegExp(`rate\\(athena_exporter_api_throttled_attempts_total\\{[^}]*\\}\\[5m\\]\\)\\) > ${String(threshold)}\\n\\s+for: 10m`),
    );
    // rate over 5m passes the threshold once threshold/perSecond of the window has throttles in it, and stays above
    // until as long after the storm; the rule then wants 10 minutes of it.
    const aboveMinutes = (THROTTLING.toMs - THROTTLING.fromMs) / 60_000;
    assert.ok(aboveMinutes >= 10 + 1, `a storm of ${String(aboveMinutes)} minutes outlasts the rule's for: 10m`);
    const firesAt = THROTTLING.fromMs / 60_000 + 5 * (threshold / perSecond) + 10;
    assert.match(
      readme,
      new RegExp(
        `around minute ${String(Math.round(firesAt))} of every two hours: from minute ${String(THROTTLING.fromMs / 60_000)} to ${String(THROTTLING.toMs / 60_000)} the simulator throttles ${String(THROTTLING.perMinute)} requests a minute, ${String(perSecond)} throttled attempts a second against the rule's ${String(threshold)}`,
      ),
    );
  });
});
