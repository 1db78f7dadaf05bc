import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ExporterConfig } from "../config/config.js";
import { formatConfigError, type ConfigError } from "../config/config-file.js";
import { createHttpApp } from "./app.js";
import { err, ok, type Result } from "../result.js";
import { ProcessMetrics } from "../self-metrics.js";
import type { Target, TargetDeps } from "../target.js";
import { Targets } from "../targets.js";
import type { WebConfig } from "../config/web-config.js";

export interface RunningServer {
  /** The target of a single-target config (tests use it); with named targets, see `targets`. */
  readonly target: Target;
  readonly targets: Targets;
  readonly url: string;
  /** Reads the configuration again; a bad one is refused and the old one keeps serving. */
  reload(): Promise<Result<void, string>>;
  close(): Promise<void>;
}

/** Where reloads read the configuration from: a file, by default (the demo adds its simulator's endpoint). */
export interface ConfigSource {
  /** Named in the reload's log lines. */
  readonly name: string;
  read(): Promise<Result<ExporterConfig, ConfigError>>;
}

export interface ServerOptions {
  /** What every target is built from. */
  readonly deps: TargetDeps;
  /** Without it, reloads are refused. */
  readonly configSource?: ConfigSource;
  /** TLS and basic auth (--web.config.file). */
  readonly web?: WebConfig;
}

/** Starts the exporter's HTTP server with its targets; resolves once it listens. */
export async function startServer(
  config: ExporterConfig,
  listen: { host: string; port: number },
  options: ServerOptions,
): Promise<RunningServer> {
  const processMetrics = new ProcessMetrics();
  const targets = new Targets(config, options.deps, processMetrics);
  const { logger } = options.deps;
  const source = options.configSource;

  const reload = async (): Promise<Result<void, string>> => {
    if (source === undefined) return err("this exporter was started without a config file");
    const loaded = await source.read();
    if (!loaded.ok) {
      const reason = formatConfigError(loaded.error);
      processMetrics.configReloadSuccessful.set(0);
      processMetrics.configReloadFailures.inc();
      processMetrics.lastReloadFailure = { reason, at: Date.now() / 1000 };
      logger.error({ file: source.name, code: loaded.error.code, reason }, "config reload failed; the previous configuration stays in use");
      return err(reason);
    }
    targets.apply(loaded.value);
    processMetrics.configReloadSuccessful.set(1);
    processMetrics.lastReloadFailure = undefined;
    processMetrics.configReloadTimestamp.set(Date.now() / 1000);
    logger.info({ file: source.name, calculations: loaded.value.calculations.length }, "config reloaded");
    return ok(undefined);
  };

  const web = options.web;
  const app = createHttpApp(targets, processMetrics, {
    logger,
    reload,
    ...(web === undefined ? {} : { basicAuthUsers: web.basicAuthUsers }),
  });
  const tls = web?.tls;
  const server: Server =
    tls === undefined
      ? createHttpServer(app)
      : createHttpsServer(
          {
            cert: tls.cert,
            key: tls.key,
            minVersion: tls.minVersion,
            ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }),
            requestCert: tls.clientAuth !== "NoClientCert",
            rejectUnauthorized: tls.clientAuth === "RequireAndVerifyClientCert",
          },
          app,
        );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host === "" ? "::" : listen.host, () => resolve());
    });
  } catch (e) {
    // Discovery's timers would keep a process that cannot serve alive.
    try {
      await targets.close();
    } finally {
      processMetrics.close();
    }
    throw e;
  }
  const address = server.address() as AddressInfo; // a TCP listener always has an AddressInfo
  const host = listen.host === "" ? "localhost" : listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    get target(): Target {
      const [first] = targets.all();
      if (first === undefined) throw new Error("no target running");
      return first;
    },
    targets,
    url: `${tls === undefined ? "http" : "https"}://${host}:${address.port}`,
    reload,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      try {
        await targets.close();
      } finally {
        processMetrics.close();
      }
    },
  };
}
