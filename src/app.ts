import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ExporterConfig } from "./config.js";
import { Exporter, type ExporterOptions } from "./exporter.js";
import { createApp } from "./server.js";

export interface RunningExporter {
  readonly exporter: Exporter;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the exporter's HTTP server; resolves once it listens. */
export async function startExporter(
  config: ExporterConfig,
  listen: { host: string; port: number },
  options: ExporterOptions & { logger: Logger },
): Promise<RunningExporter> {
  const exporter = new Exporter(config, options);
  const app = createApp(() => exporter, { logger: options.logger });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(listen.port, listen.host === "" ? "::" : listen.host, (error?: Error) => {
      if (error) reject(error);
      else resolve(s);
    });
  });
  const address = server.address() as AddressInfo; // a TCP listener always has an AddressInfo
  const host = listen.host === "" ? "localhost" : listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    exporter,
    url: `http://${host}:${address.port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await exporter.close();
    },
  };
}
