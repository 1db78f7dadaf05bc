import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { requireBinary } from "./helpers.js";
import { freePort, serveUntilReady } from "./prometheus-server.js";

/** One alert of a webhook notification, as Alertmanager sends it. */
export interface NotifiedAlert {
  readonly status: "firing" | "resolved";
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
}

/** One notification: what a person on call receives. */
export interface Notification {
  readonly receivedAtMs: number;
  readonly status: "firing" | "resolved";
  readonly groupLabels: Record<string, string>;
  readonly alerts: readonly NotifiedAlert[];
}

/** A webhook receiver on loopback that keeps every notification it is sent. */
export async function startWebhookReceiver(): Promise<{ url: string; notifications: Notification[]; stop(): Promise<void> }> {
  const notifications: Notification[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as Omit<Notification, "receivedAtMs">; // Alertmanager's webhook payload, version 4
      notifications.push({ receivedAtMs: Date.now(), status: parsed.status, groupLabels: parsed.groupLabels, alerts: parsed.alerts });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, // listening on TCP
    notifications,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) on loopback with
 * `config`, its own data directory and clustering off (no gossip port).
 */
export async function startAlertmanager(config: unknown): Promise<{ address: string; stop(): Promise<void> }> {
  const binary = requireBinary("prometheus-alertmanager");
  const dir = await mkdtemp(join(tmpdir(), "ace-alertmanager-"));
  await writeFile(join(dir, "alertmanager.yml"), stringify(config));
  const port = await freePort();
  const stop = await serveUntilReady(
    "alertmanager",
    binary,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    dir,
    `http://127.0.0.1:${port}/-/ready`,
  );
  return { address: `127.0.0.1:${port}`, stop };
}
