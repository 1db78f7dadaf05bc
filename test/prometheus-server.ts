import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request, createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { requireBinary, waitFor } from "./helpers.js";

/** A port that was free a moment ago on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrometheusApiResult {
  readonly resultType: string;
  readonly result: { metric: Record<string, string>; value?: [number, string] }[];
}

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<PrometheusApiResult>;
  alerts(): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; activeAt: string }[]>;
  labelValues(label: string, match: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus server (Debian's package) on loopback, with its own
 * data directory, scraping `target` every second and evaluating `rules`.
 */
export async function startPrometheus(
  target: string | { readonly scrapeConfigs: readonly unknown[] },
  rules: string,
  /** Prometheus durations; the defaults (1s, 1s) suit small bodies, a body of 100,000 calculations needs longer. */
  options: { readonly scrapeInterval?: string; readonly scrapeTimeout?: string; readonly alertmanager?: string } = {},
): Promise<RunningPrometheus> {
  const binary = requireBinary("prometheus");
  const dir = await mkdtemp(join(tmpdir(), "ace-prometheus-"));
  await writeFile(join(dir, "alerts.yml"), rules);
  const scrapeConfigs =
    typeof target === "string"
      ? [{ job_name: "athena-calculation-exporter", static_configs: [{ targets: [target] }] }]
      : target.scrapeConfigs;
  await writeFile(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: options.scrapeInterval ?? "1s", scrape_timeout: options.scrapeTimeout ?? "1s", evaluation_interval: "1s" },
      rule_files: ["alerts.yml"],
      scrape_configs: scrapeConfigs,
      ...(options.alertmanager === undefined
        ? {}
        : { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] } }),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stop = await serveUntilReady(
    "prometheus",
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    dir,
    `${url}/-/ready`,
  );

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string }; // Prometheus's API envelope
    if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };

  return {
    url,
    query: (expr) => api<PrometheusApiResult>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    alerts: async () =>
      (
        await api<{ alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string; activeAt: string }[] }>(
          "/api/v1/alerts",
        )
      ).alerts,
    labelValues: (label, match) => api<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`),
    stop,
  };
}

/** What one request through a recordingProxy asked for and what came back. */
export interface ProxiedExchange {
  readonly requestHeaders: IncomingHttpHeaders;
  readonly status: number;
  readonly responseHeaders: IncomingHttpHeaders;
  readonly wireBytes: number;
}

/**
 * A loopback HTTP proxy to `upstream` (host:port) that passes bytes through
 * untouched and records each exchange's headers and body size on the wire,
 * so a test sees what Prometheus itself asked for and received (its
 * Accept-Encoding, the Content-Encoding of the answer).
 */
export async function recordingProxy(upstream: string): Promise<{ target: string; exchanges: ProxiedExchange[]; stop(): Promise<void> }> {
  const [host = "", port = ""] = upstream.split(":");
  const exchanges: ProxiedExchange[] = [];
  const server = createHttpServer((req, res) => {
    const out = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      let wireBytes = 0;
      answer.on("data", (chunk: Buffer) => (wireBytes += chunk.length));
      answer.on("end", () =>
        exchanges.push({ requestHeaders: req.headers, status: answer.statusCode ?? 0, responseHeaders: answer.headers, wireBytes }),
      );
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs a Prometheus-family server (`binary` with `args`) until its ready
 * endpoint answers, and gives what stops it and removes `dir`. One that
 * exits first, or is not ready in 20 s, is stopped and fails with its stderr.
 */
export async function serveUntilReady(
  name: string,
  binary: string,
  args: readonly string[],
  dir: string,
  readyUrl: string,
): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
        try {
          return (await fetch(readyUrl)).ok;
        } catch {
          return false;
        }
      },
      20_000,
      `${name} to be ready`,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}
