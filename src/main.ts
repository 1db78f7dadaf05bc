#!/usr/bin/env node
import { loadConfig } from "./config.js";
import { formatConfigError } from "./config-file.js";
import { startExporter } from "./app.js";
import { parseFlags, usage } from "./flags.js";
import { createLogger } from "./logger.js";
import { VERSION } from "./version.js";
import { loadWebConfig, type WebConfig } from "./web-config.js";

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  if (!flags.ok) {
    process.stderr.write(`error: ${flags.error}\n\n${usage("athena-calculation-exporter")}`);
    return 2;
  }
  if (flags.value.help) {
    process.stdout.write(usage("athena-calculation-exporter"));
    return 0;
  }
  if (flags.value.version) {
    process.stdout.write(`athena-calculation-exporter ${VERSION} (Node.js ${process.version})\n`);
    return 0;
  }
  const logger = createLogger(flags.value.logLevel);
  const config = await loadConfig(flags.value.configFile);
  if (!config.ok) {
    const message = formatConfigError(config.error);
    logger.error({ file: flags.value.configFile }, "invalid configuration");
    process.stderr.write(`error: invalid configuration in ${message}\n`);
    return 1;
  }
  let web: WebConfig | undefined;
  if (flags.value.webConfigFile !== undefined) {
    const loaded = await loadWebConfig(flags.value.webConfigFile);
    if (!loaded.ok) {
      logger.error({ file: flags.value.webConfigFile }, "invalid web configuration");
      process.stderr.write(`error: invalid web configuration in ${formatConfigError(loaded.error)}\n`);
      return 1;
    }
    web = loaded.value;
  }
  const running = await startExporter(
    config.value,
    { host: flags.value.listenHost, port: flags.value.listenPort },
    {
      logger,
      configFile: flags.value.configFile,
      shard: { ordinal: flags.value.shard, total: flags.value.totalShards },
      ...(web === undefined ? {} : { web }),
    },
  );
  process.on("SIGHUP", () => {
    void running.reload();
  });
  logger.info(
    {
      version: VERSION,
      url: `${running.url}/metrics`,
      calculations: running.targets.all().reduce((n, e) => n + e.config.calculations.length, 0),
      targets: running.targets.names(),
      config: flags.value.configFile,
      tls: web?.tls !== undefined,
      basic_auth: (web?.basicAuthUsers.size ?? 0) > 0,
    },
    "exporter listening",
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, "shutting down");
      void running.close().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
