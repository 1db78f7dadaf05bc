import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { startAlertmanager, startWebhookReceiver, type Notification } from "../alertmanager-server.js";
import { memoryLogger, testConfig, testDeps, waitFor } from "../helpers.js";
import { freePort, startPrometheus, type RunningPrometheus } from "../prometheus-server.js";
import { rulesAtTestPace } from "./mixin.js";

const MINUTE = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The shipped rules with the waits in seconds: each `for:` 2 s, except
 * AthenaCalculationFailed's 5 s (a session's state may lag its calculations'
 * by a scrape), the refresh-failure alerts' 10 s (longer than a restart's
 * pending data, as 15 minutes is in production) and AthenaExporterDown's
 * 30 s (longer than the restart, as 5 minutes is); the hold through a failed
 * scrape 30 s. The expressions are alerts.yml's.
 */
function fastRules(): string {
  return rulesAtTestPace({
    keepFiringFor: "30s",
    for: { calculationFailed: "5s", refreshFailing: "10s", sessionRefreshFailing: "10s", down: "30s" },
  });
}

/** prometheus/alertmanager.yml as shipped, with the waits in seconds and its receiver a webhook into this test. */
async function testAlertmanagerConfig(webhook: string): Promise<unknown> {
  const shipped = parse(await readFile("prometheus/alertmanager.yml", "utf8")) as {
    route: Record<string, unknown> & { routes?: Record<string, unknown>[] };
    inhibit_rules: unknown[];
    receivers: { name: string }[];
  }; // amtool check-config checks its shape (rules-config.test.ts)
  const fast = { group_wait: "1s", group_interval: "2s" };
  return {
    route: {
      ...shipped.route,
      ...fast,
      repeat_interval: "1h",
      routes: (shipped.route.routes ?? []).map((r) => ({ ...r, group_wait: "1s" })),
    },
    inhibit_rules: shipped.inhibit_rules,
    receivers: shipped.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url: webhook, send_resolved: true }] })),
  };
}

const describeNotification = (n: Notification): string =>
  `${n.status}: ${n.alerts.map((a) => `${a.labels.alertname ?? ""}(${a.status}${a.labels.session_id === undefined ? "" : ` ${a.labels.session_id}`})`).join(", ")}`;

describe("notifications as a person receives them: README's Alertmanager config beside a real Prometheus", () => {
  const simulator = new AthenaSimulator();
  const now = Date.now();
  // A forgotten notebook: idle for 45 minutes, over the 30-minute threshold from the start.
  // Started with the 480-minute maximum idle timeout: it will bill for hours unless someone ends it.
  const idle = simulator.state.addSession("wg", {
    idleSinceMs: now - 45 * MINUTE,
    startedAtMs: now - 50 * MINUTE,
    idleTimeoutMinutes: 480,
  });
  const doomed = simulator.state.addSession("wg", { state: "BUSY", startedAtMs: now - 10 * MINUTE });
  const running = Array.from(
    { length: 20 },
    () => simulator.state.addCalculation({ sessionId: doomed.id, state: "RUNNING", submittedAtMs: now - MINUTE }).id,
  );
  // A session someone terminates while ten calculations run in it.
  const stopped = simulator.state.addSession("wg", { state: "BUSY", startedAtMs: now - 10 * MINUTE });
  for (let i = 0; i < 10; i++) simulator.state.addCalculation({ sessionId: stopped.id, state: "RUNNING", submittedAtMs: now - MINUTE });
  // Work that goes on elsewhere: refreshed on every scrape, so a throttle storm makes its refreshes fail.
  const busy = simulator.state.addSession("wg", { state: "BUSY", startedAtMs: now - 10 * MINUTE });
  simulator.state.addCalculation({ sessionId: busy.id, state: "RUNNING", submittedAtMs: now - MINUTE });
  let port = 0;
  let simulatorUrl = "";
  let exporter: RunningServer | undefined;
  let prometheus: RunningPrometheus;
  let alertmanager: Awaited<ReturnType<typeof startAlertmanager>>;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  const startExporter = (): Promise<RunningServer> =>
    startServer(
      testConfig(
        [
          `aws: {region: us-east-1, endpoint: "${simulatorUrl}", stsEndpoint: "${simulatorUrl}", maxAttempts: 1, requestsPerSecond: 1000, listRequestsPerSecond: 1000}`,
          "cache: {ttl: 500ms}",
          "calculations: []",
          "discovery: {workgroups: [wg], interval: 1s}",
        ].join("\n"),
      ),
      { host: "127.0.0.1", port },
      { deps: testDeps(memoryLogger().logger) },
    );
  const since = (t: number): Notification[] => receiver.notifications.filter((n) => n.receivedAtMs >= t);
  const value = async (expr: string): Promise<number> => Number((await prometheus.query(expr)).result[0]?.value?.[1] ?? NaN);
  const idleActiveAt = async (): Promise<string | undefined> =>
    (await prometheus.alerts()).find((a) => a.labels.alertname === "AthenaSessionIdle" && a.labels.session_id === idle.id)?.activeAt;

  before(async () => {
    simulatorUrl = await simulator.start(0, "127.0.0.1");
    port = await freePort();
    exporter = await startExporter();
    receiver = await startWebhookReceiver();
    alertmanager = await startAlertmanager(await testAlertmanagerConfig(receiver.url));
    prometheus = await startPrometheus(`127.0.0.1:${port}`, fastRules(), { alertmanager: alertmanager.address });
    await waitFor(
      () => receiver.notifications.some((n) => n.alerts.some((a) => a.labels.alertname === "AthenaSessionIdle")),
      30_000,
      "the idle session's notification",
    );
  });

  after(async () => {
    await prometheus.stop();
    await alertmanager.stop();
    await receiver.stop();
    await exporter?.close();
    await simulator.stop();
  });

  it("pages once for the idle session, and nothing else on a quiet start", () => {
    assert.deepEqual(receiver.notifications.map(describeNotification), [`firing: AthenaSessionIdle(firing ${idle.id})`]);
  });

  it("sends no 'resolved' when refreshes of the idle session fail in the middle of its alert", async () => {
    const start = Date.now();
    const activeAt = await idleActiveAt();
    simulator.injectFault({ kind: "InternalServerException", operation: "GetSession", resourceId: idle.id, remaining: 6 });
    await waitFor(async () => (await value(`athena_session_up{session_id="${idle.id}"}`)) === 0, 20_000, "a failed refresh in Prometheus");
    await waitFor(async () => (await value(`athena_session_up{session_id="${idle.id}"}`)) === 1, 20_000, "refreshes to succeed again");
    await sleep(5000); // two group intervals and more
    assert.deepEqual(since(start).map(describeNotification), []);
    assert.equal(await idleActiveAt(), activeAt, "the alert kept its start: it never resolved in Prometheus");
  });

  it("sends nothing when the exporter restarts", async () => {
    const start = Date.now();
    const activeAt = await idleActiveAt();
    await exporter?.close();
    exporter = undefined;
    // A failed scrape: Prometheus marks every series of the target stale.
    await waitFor(async () => (await value('up{job="athena-calculation-exporter"}')) === 0, 20_000, "a failed scrape");
    exporter = await startExporter();
    await waitFor(async () => (await value('up{job="athena-calculation-exporter"}')) === 1, 20_000, "the new process to be scraped");
    await waitFor(
      async () => (await value(`athena_session_state{session_id="${idle.id}",state="IDLE"}`)) === 1,
      20_000,
      "the idle session to be known again",
    );
    await sleep(12_000); // past the refresh-failure alerts' 10 s and a few group intervals
    assert.deepEqual(since(start).map(describeNotification), []);
    assert.equal(await idleActiveAt(), activeAt, "the idle alert was held through the restart");
  });

  it("sends one notification for a session that fails with its 20 running calculations", async () => {
    const start = Date.now();
    simulator.state.setSessionState(doomed.id, "FAILED", "Spark driver lost");
    for (const id of running) simulator.state.setState(id, "FAILED", "Session failed");
    await waitFor(() => since(start).length > 0, 30_000, "a notification");
    await sleep(10_000); // past AthenaCalculationFailed's 5 s and a few group intervals
    assert.equal(await value(`count(athena_calculation_state{session_id="${doomed.id}",state="FAILED"} == 1)`), 20);
    assert.deepEqual(since(start).map(describeNotification), [`firing: AthenaSessionFailed(firing ${doomed.id})`]);
    assert.match(String(since(start)[0]?.alerts[0]?.annotations.description), /one by one: 20\. Reason: Spark driver lost\./);
  });

  it("sends one notification for a session terminated with its 10 running calculations, counting them", async () => {
    const start = Date.now();
    simulator.state.terminateSession(stopped.id);
    await waitFor(() => since(start).length > 0, 30_000, "a notification");
    await sleep(10_000); // past AthenaCalculationFailed's 5 s and a few group intervals
    assert.equal(await value(`count(athena_calculation_state{session_id="${stopped.id}",state="FAILED"} == 1)`), 10);
    assert.deepEqual(since(start).map(describeNotification), [`firing: AthenaSessionTerminatedCalculations(firing ${stopped.id})`]);
    assert.match(String(since(start)[0]?.alerts[0]?.annotations.description), /was TERMINATED and stopped 10 calculations/);
  });

  it("sends one notification for a throttle storm", async () => {
    const start = Date.now();
    simulator.injectFault({ kind: "ThrottlingException" });
    await waitFor(() => since(start).length > 0, 30_000, "a notification");
    // Every refresh fails while the storm lasts: the refresh-failure alerts fire, and are held back behind the throttling.
    await waitFor(
      async () => (await value('count(ALERTS{alertname=~"Athena(Exporter|Session)RefreshFailing",alertstate="firing"})')) === 2,
      30_000,
      "both refresh-failure alerts to fire",
    );
    await sleep(4000);
    simulator.faults.clear();
    await sleep(5000);
    assert.deepEqual(since(start).map(describeNotification), ["firing: AthenaExporterThrottled(firing)"]);
  });
});
