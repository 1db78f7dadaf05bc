import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { WORST_FEW } from "../../src/http/status-page.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../src/http/start-server.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { fileSource, memoryLogger, stackFor, testConfig, testDeps, waitFor } from "../helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const HOSTILE = `<script>document.title="pwned"</script><img src=x onerror=alert(1)>&amp; "quoted"`;

/** Debian's Chromium, headless; a missing browser fails the test with its install line, never skips it. */
async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium), as .ci/run does`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

describe("status page", () => {
  it("shows a person the counts, a failing calculation with its error, escaped text, and a working /metrics link", async (t) => {
    let failing = "";
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg-status");
      const done = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 4000 }).id;
      const running = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", description: HOSTILE }).id;
      const queued = sim.state.addCalculation({ sessionId: session.id, state: "QUEUED" }).id;
      // Never in the simulator: every GetCalculation of it fails.
      failing = randomUUID();
      return { calculations: [done, running, queued, failing] };
    });
    await stack.scrape();

    const browser = await launchChromium();
    t.after(() => browser.close());
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const answer = await page.goto(`${stack.server.url}/`);
    assert.equal(answer?.status(), 200);
    assert.equal(await page.title(), "Athena Calculation Exporter", "a script of Athena's text ran");

    const byState = page.locator("table", { has: page.locator("caption", { hasText: "Calculations by state" }) });
    const count = async (state: string): Promise<string> =>
      (await byState.locator("tr", { hasText: state }).locator("td").nth(1).innerText()).trim();
    assert.equal(await count("COMPLETED"), "1");
    assert.equal(await count("RUNNING"), "1");
    assert.equal(await count("QUEUED"), "1");
    assert.equal(await count("PENDING"), "1", "the failing calculation never had an answer");
    const sessions = page.locator("table", { has: page.locator("caption", { hasText: "Sessions by state" }) });
    assert.match(await sessions.innerText(), /IDLE|BUSY/);

    const failingRow = page.locator("tr", { hasText: failing });
    assert.equal(await failingRow.count(), 1, "the failing calculation is listed once");
    assert.match(await failingRow.innerText(), /ResourceNotFound/);
    assert.match(await failingRow.innerText(), /\d{4}-\d\d-\d\dT\d\d:\d\d/, "failing since when");

    const body = await page.locator("body").innerText();
    assert.ok(body.includes(HOSTILE), "the hostile description is shown as text");
    assert.equal(await page.locator("script").count(), 0, "no script element came from Athena's text");
    assert.equal(await page.locator("img").count(), 0, "no image element came from Athena's text");
    assert.deepEqual(dialogs, []);
    assert.match(body, /Discovery: off/);
    assert.match(body, /Configuration: loaded/);
    assert.match(body, /Version \d+\.\d+\.\d+/);

    await page.getByRole("link", { name: "Metrics", exact: true }).click();
    await page.waitForURL(/\/metrics$/);
    const metrics = await page.locator("body").innerText();
    assert.match(metrics, new RegExp(`athena_calculation_up\\{[^}]*calculation_execution_id="${failing}"[^}]*\\} 0`));
  });

  it("says why: the reason a reload failed, sessions failing to refresh, FAILED, DEGRADED and idle sessions, failed calculations", async (t) => {
    const simulator = new AthenaSimulator();
    const now = Date.now();
    const failedSession = simulator.state.addSession("wg-why", { state: "BUSY", description: "nightly etl" });
    simulator.state.setSessionState(failedSession.id, "FAILED", "Spark driver lost");
    const degraded = simulator.state.addSession("wg-why", { state: "BUSY" });
    simulator.state.setSessionState(degraded.id, "DEGRADED", "Executors lost");
    const idle = simulator.state.addSession("wg-why", {
      idleSinceMs: now - 3 * 3_600_000,
      startedAtMs: now - 4 * 3_600_000,
      description: "forgotten notebook",
    });
    const unreachable = simulator.state.addSession("wg-why", { state: "BUSY" });
    const failed = simulator.state.addCalculation({ sessionId: idle.id, state: "FAILED", description: "train model" }).id;
    simulator.state.setState(failed, "FAILED", HOSTILE);
    const url = await simulator.start(0, "127.0.0.1");
    t.after(() => simulator.stop());
    const dir = await mkdtemp(join(tmpdir(), "ace-status-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "config.yaml");
    const yaml = `aws: {region: us-east-1, endpoint: "${url}", stsEndpoint: "${url}", maxAttempts: 1}\ncache: {ttl: 200ms}\ncalculations: [${failed}]\ndiscovery: {workgroups: [wg-why], interval: 1s}\n`;
    await writeFile(file, yaml);
    const server = await startServer(
      testConfig(yaml),
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(memoryLogger().logger), configSource: fileSource(file) },
    );
    t.after(() => server.close());
    const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
    await waitFor(async () => (await scrape()).includes(`session_id="${unreachable.id}"`), 20_000, "discovery");
    simulator.injectFault({ kind: "InternalServerException", operation: "GetSession", resourceId: unreachable.id });
    await waitFor(
      async () => new RegExp(`athena_session_up\\{[^}]*session_id="${unreachable.id}"[^}]*\\} 0`).test(await scrape()),
      20_000,
      "a failed session refresh",
    );
    await writeFile(file, yaml.replace("cache: {ttl: 200ms}", "cache: {ttl: soon}"));
    assert.equal((await fetch(`${server.url}/-/reload`, { method: "POST" })).status, 500);

    const browser = await launchChromium();
    t.after(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const body = await page.locator("body").innerText();
    assert.match(body, /the last reload failed at \d{4}-\d\d-\d\dT[\d:.]+Z: .*ttl/, "the reload's reason");
    const rowOf = (caption: string, id: string) =>
      page.locator("h3", { hasText: caption }).locator("xpath=following-sibling::table[1]").locator("tr", { hasText: id });
    assert.match(await rowOf("Sessions failing to refresh", unreachable.id).innerText(), /InternalServerException/);
    assert.match(await rowOf("FAILED sessions", failedSession.id).innerText(), /nightly etl.*Spark driver lost/s);
    assert.match(await rowOf("DEGRADED sessions", degraded.id).innerText(), /Executors lost/);
    assert.match(await rowOf("Idle sessions", idle.id).innerText(), /forgotten notebook/);
    // Settled, it is never fetched again, yet the cache keeps a failed one's answer: its description and reason, as text.
    const failedRow = await rowOf("Failed calculations", failed).innerText();
    assert.match(failedRow, /wg-why/);
    assert.match(failedRow, /train model/);
    assert.ok(failedRow.includes('<script>document.title="pwned"</script>'), `the reason, shown as text: ${failedRow}`);
    assert.equal(await page.locator("script").count(), 0, "no script element came from Athena's text");
  });

  it("stays small with many calculations: counts and the worst few, never everything", async (t) => {
    const RUNNING = 1_000;
    const FAILING = 1_000;
    const FAILED = 1_000;
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg-many");
      const ids: string[] = [];
      for (let i = 0; i < RUNNING; i++)
        ids.push(sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", description: "x".repeat(500) }).id);
      for (let i = 0; i < FAILING; i++) ids.push(randomUUID());
      for (let i = 0; i < FAILED; i++)
        ids.push(sim.state.addCalculation({ sessionId: session.id, state: "FAILED", description: "y".repeat(500) }).id);
      return { calculations: ids, extraYaml: `cache:\n  maxEntries: ${RUNNING + FAILING + FAILED}\nscrape:\n  timeout: 2m` };
    });
    await stack.scrape({ "X-Prometheus-Scrape-Timeout-Seconds": "120" });
    const started = performance.now();
    const res = await fetch(`${stack.server.url}/`);
    const ms = performance.now() - started;
    const html = await res.text();
    t.diagnostic(`status page at ${RUNNING + FAILING + FAILED} calculations: ${html.length} bytes in ${ms.toFixed(0)} ms`);
    assert.ok(html.length < 40_000, `the page is ${html.length} bytes`);
    assert.match(html, new RegExp(`<td>RUNNING</td><td>${RUNNING}</td>`));
    assert.match(html, new RegExp(`<td>PENDING</td><td>${FAILING}</td>`));
    assert.match(html, new RegExp(`Failing to refresh \\(${FAILING}, the ${WORST_FEW} failing longest shown\\)`));
    assert.match(html, new RegExp(`Unfinished \\(${RUNNING}, the ${WORST_FEW} oldest shown\\)`));
    assert.match(html, new RegExp(`Failed calculations \\(${FAILED}, the ${WORST_FEW} latest shown\\)`));
    // One row per calculation shown: WORST_FEW failing, WORST_FEW failed and WORST_FEW unfinished.
    assert.equal(html.match(/<tr><td><code>/g)?.length, 3 * WORST_FEW);
  });
  it("gives each named target its own section, with a link to its /metrics?target= that answers", async (t) => {
    const ids: Record<string, string> = {};
    const stack = await stackFor(t, (sim) => {
      const session = sim.state.addSession("wg-targets");
      ids.prod = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING" }).id;
      ids.dev = sim.state.addCalculation({ sessionId: session.id, state: "COMPLETED", dpuExecutionMillis: 1000 }).id;
      return {
        calculations: [],
        extraYaml: `targets:\n  - {name: prod, calculations: [${ids.prod}]}\n  - {name: dev, calculations: [${ids.dev}]}`,
      };
    });
    for (const name of ["prod", "dev"]) assert.equal((await fetch(`${stack.server.url}/metrics?target=${name}`)).status, 200);
    const html = await (await fetch(`${stack.server.url}/`)).text();
    for (const name of ["prod", "dev"]) {
      assert.match(html, new RegExp(`<h2>Target ${name}</h2>`));
      const href = new RegExp(`<a href="(/metrics\\?target=${name})">Metrics of target ${name}</a>`).exec(html)?.[1];
      assert.ok(href !== undefined, `no link to the metrics of ${name}`);
      const metrics = await (await fetch(`${stack.server.url}${href}`)).text();
      assert.match(metrics, new RegExp(`athena_calculation_up\\{[^}]*calculation_execution_id="${ids[name] ?? ""}"`));
    }
    assert.match(html, /<a href="\/metrics">Metrics of the exporter itself<\/a>/);
  });
});
