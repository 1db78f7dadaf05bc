import type { Logger } from "pino";
import { sdkAthenaApis, type AwsCredentials } from "../athena/client.js";
import { SYSTEM_CLOCK } from "../clock.js";
import { loadConfig, type ExporterConfig } from "../config/config.js";
import { FAMILY_NAMES } from "../catalog/family-filter.js";
import { formatConfigError } from "../config/config-file.js";
import { redactUserinfo } from "../config/echo.js";
import { parseFlags, usage } from "./flags.js";
import { createLogger } from "./logger.js";
import { startServer, type RunningServer } from "../http/start-server.js";
import { VERSION } from "../version.js";
import { loadWebConfig, type WebConfig } from "../config/web-config.js";

// The one command line of `npm start` (main.ts) and `npm run demo` (demo.ts):
// flags, config and web config, the server, SIGHUP reload, and a graceful
// stop on SIGTERM or SIGINT. The demo differs only by what `extend` adds.

/** What a program adds to the exporter once flags and config are good. */
export interface CliExtension {
  /** Applied to the configuration at start and on every reload. */
  readonly adjustConfig?: (config: ExporterConfig) => ExporterConfig;
  /** Instead of the SDK's default chain. */
  readonly credentials?: AwsCredentials;
  /**
   * Written to stderr once the exporter listens, for the person at the terminal:
   * stdout carries only log lines, all in the --log.format chosen.
   */
  readonly banner?: (running: RunningServer) => string;
  /** Stops what it started; called after the exporter stops, or when it fails to start. */
  close(): Promise<void>;
}

export interface CliProgram {
  /** Named in --help, --version and error lines. */
  readonly name: string;
  /** Starts what the program adds (the demo's simulator), before the exporter starts. */
  readonly extend?: (logger: Logger) => Promise<CliExtension>;
}

/** Runs the program to its end: 0 after a signal stopped it, 1 for a bad config, 2 for bad flags. */
export async function runCli(program: CliProgram, argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (!flags.ok) {
    process.stderr.write(`error: ${flags.error}\n\n${usage(program.name)}`);
    return 2;
  }
  if (flags.value.help) {
    process.stdout.write(usage(program.name));
    return 0;
  }
  if (flags.value.version) {
    process.stdout.write(`${program.name} ${VERSION} (Node.js ${process.version})\n`);
    return 0;
  }
  const { configFile, webConfigFile } = flags.value;
  const logger = createLogger(flags.value.logLevel, process.stdout, flags.value.logFormat);
  const config = await loadConfig(configFile, FAMILY_NAMES);
  if (!config.ok) {
    logger.error({ file: configFile, code: config.error.code, reason: formatConfigError(config.error) }, "invalid configuration");
    process.stderr.write(`error: invalid configuration in ${formatConfigError(config.error)}\n`);
    return 1;
  }
  let web: WebConfig | undefined;
  if (webConfigFile !== undefined) {
    const loaded = await loadWebConfig(webConfigFile);
    if (!loaded.ok) {
      logger.error({ file: webConfigFile, code: loaded.error.code, reason: formatConfigError(loaded.error) }, "invalid web configuration");
      process.stderr.write(`error: invalid web configuration in ${formatConfigError(loaded.error)}\n`);
      return 1;
    }
    web = loaded.value;
  }

  const extension = program.extend === undefined ? undefined : await program.extend(logger);
  const adjust = extension?.adjustConfig ?? ((c: ExporterConfig): ExporterConfig => c);
  let running: RunningServer;
  try {
    running = await startServer(
      adjust(config.value),
      { host: flags.value.listenHost, port: flags.value.listenPort },
      {
        deps: {
          logger,
          clock: SYSTEM_CLOCK,
          shard: { ordinal: flags.value.shard, total: flags.value.totalShards },
          athenaApis: sdkAthenaApis(extension?.credentials, logger),
        },
        configSource: {
          name: configFile,
          read: async () => {
            const loaded = await loadConfig(configFile, FAMILY_NAMES);
            return loaded.ok ? { ok: true, value: adjust(loaded.value) } : loaded;
          },
        },
        ...(web === undefined || webConfigFile === undefined
          ? {}
          : { web, webSource: { name: webConfigFile, read: () => loadWebConfig(webConfigFile) } }),
      },
    );
  } catch (e) {
    // In the log too, in its format, for whoever reads only the log; stderr gets the line for the terminal.
    logger.error({ reason: describeFailure(e) }, "cannot start");
    await extension?.close();
    throw e;
  }

  const reload = (): void => {
    void running.reload();
  };
  process.on("SIGHUP", reload);
  logger.info(
    {
      version: VERSION,
      // Where SIGHUP must go: npm forwards only SIGTERM and SIGINT to the node process it started.
      pid: process.pid,
      url: `${running.url}/metrics`,
      calculations: running.targets.all().reduce((n, e) => n + e.config.calculations.length, 0),
      targets: running.targets.names(),
      config: configFile,
      shard: flags.value.shard,
      total_shards: flags.value.totalShards,
      tls: web?.tls !== undefined,
      basic_auth: (web?.basicAuthUsers.size ?? 0) > 0,
    },
    "exporter listening",
  );
  if (extension?.banner !== undefined) process.stderr.write(extension.banner(running));

  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "shutting down");
  process.off("SIGHUP", reload);
  await running.close();
  await extension?.close();
  return 0;
}

/** One line for stderr, whatever was thrown: no stack, no URL's password. */
function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactUserinfo(text).replace(/\s*\n\s*/g, " ");
}

/** The entry point: runs the program on process.argv and sets the exit code. */
export function main(program: CliProgram): void {
  runCli(program, process.argv.slice(2)).then(
    (code) => exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${describeFailure(error)}\n`);
      exit(1);
    },
  );
}

/**
 * Exits once nothing is left to do, or after a short grace if a timer or socket
 * of something stopped (a demo workload's schedule, a keep-alive) still holds the
 * event loop: a process manager that sent SIGTERM waits for the process to end,
 * and the stop as a whole is to take under a second.
 */
function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}
