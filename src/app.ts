import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { loadConfig, type ExporterConfig } from "./config.js";
import { formatConfigError } from "./config-file.js";
import type { Exporter, ExporterOptions } from "./exporter.js";
import { err, ok, type Result } from "./result.js";
import { ProcessMetrics } from "./self-metrics.js";
import { createApp } from "./server.js";
import { Targets } from "./targets.js";
import type { WebConfig } from "./web-config.js";

export interface RunningExporter {
  /** The exporter of a single-target config (tests use it); with named targets, see `targets`. */
  readonly exporter: Exporter;
  readonly targets: Targets;
  readonly url: string;
  /** Re-reads the config file; a bad one is refused and the old one keeps serving. */
  reload(): Promise<Result<void, string>>;
  close(): Promise<void>;
}

export interface StartOptions extends ExporterOptions {
  readonly logger: Logger;
  /** Where reloads read the configuration from; without it, reloads are refused. */
  readonly configFile?: string;
  /** Applied to every configuration read on reload (the demo points it at its simulator). */
  readonly adjustConfig?: (config: ExporterConfig) => ExporterConfig;
  /** TLS and basic auth (--web.config.file). */
  readonly web?: WebConfig;
}

/** Starts the exporter's HTTP server; resolves once it listens. */
export async function startExporter(
  config: ExporterConfig,
  listen: { host: string; port: number },
  options: StartOptions,
): Promise<RunningExporter> {
  const processMetrics = new ProcessMetrics();
  const targets = new Targets(config, options, processMetrics);
  const { logger, configFile } = options;

  const reload = async (): Promise<Result<void, string>> => {
    if (configFile === undefined) return err("this exporter was started without a config file");
    const loaded = await loadConfig(configFile);
    if (!loaded.ok) {
      const reason = formatConfigError(loaded.error);
      processMetrics.configReloadSuccessful.set(0);
      processMetrics.configReloadFailures.inc();
      logger.error({ file: configFile, code: loaded.error.code, reason }, "config reload failed; the previous configuration stays in use");
      return err(reason);
    }
    targets.apply(options.adjustConfig ? options.adjustConfig(loaded.value) : loaded.value);
    processMetrics.configReloadSuccessful.set(1);
    processMetrics.configReloadTimestamp.set(Date.now() / 1000);
    logger.info({ file: configFile, calculations: loaded.value.calculations.length }, "config reloaded");
    return ok(undefined);
  };

  const web = options.web;
  const app = createApp(targets, processMetrics, { logger, reload, ...(web === undefined ? {} : { basicAuthUsers: web.basicAuthUsers }) });
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host === "" ? "::" : listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo; // a TCP listener always has an AddressInfo
  const host = listen.host === "" ? "localhost" : listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    get exporter(): Exporter {
      const [first] = targets.all();
      if (first === undefined) throw new Error("no exporter running");
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
      await targets.close();
    },
  };
}
