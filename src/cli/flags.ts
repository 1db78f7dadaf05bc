import { parseArgs } from "node:util";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./logger.js";
import { err, ok, type Result } from "../result.js";

// Outside 9100-9999, which Prometheus's port allocation list has used up.
export const DEFAULT_PORT = 10221;

export interface Flags {
  readonly configFile: string;
  readonly webConfigFile: string | undefined;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly shard: number;
  readonly totalShards: number;
  readonly help: boolean;
  readonly version: boolean;
}

const FLAG_HELP: readonly (readonly [string, string])[] = [
  ["--config.file=PATH", "Configuration file (default: config.yaml)."],
  ["--web.listen-address=[HOST]:PORT", `Address to serve /metrics on (default: :${DEFAULT_PORT}, all interfaces).`],
  ["--web.config.file=PATH", "TLS and basic auth, in Prometheus exporter-toolkit's web config format (default: none)."],
  ["--log.level=LEVEL", `Log level: ${LOG_LEVELS.join(", ")} (default: info).`],
  ["--log.format=FORMAT", `Log format: ${LOG_FORMATS.join(", ")} (default: logfmt).`],
  ["--shard=I", "This replica's shard, 0 to --total-shards minus 1 (default: 0)."],
  ["--total-shards=N", "Replicas splitting the calculations between them by a stable hash (default: 1)."],
  ["--version", "Print the version and exit."],
  ["-h, --help", "Show this help and exit."],
];

export function usage(program: string): string {
  const width = Math.max(...FLAG_HELP.map(([flag]) => flag.length));
  return [
    `Usage: ${program} [flags]`,
    "",
    "Prometheus exporter for Amazon Athena for Apache Spark calculation executions.",
    "",
    "Flags:",
    ...FLAG_HELP.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    "",
    "AWS credentials and region come from the SDK's default chain (environment, shared",
    "profile or SSO, web identity, container and instance roles); AWS_ENDPOINT_URL_ATHENA",
    "points the exporter at another endpoint, such as the bundled simulator.",
    "",
  ].join("\n");
}

/** Splits "[HOST]:PORT" as Prometheus's --web.listen-address does; an empty host means all interfaces. */
export function parseListenAddress(text: string): Result<{ host: string; port: number }, string> {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    return err(`--web.listen-address: "${text}" is not [HOST]:PORT, such as :${DEFAULT_PORT} or 127.0.0.1:${DEFAULT_PORT}`);
  }
  return ok({ host: match[1] ?? match[2] ?? "", port });
}

export function parseFlags(argv: readonly string[]): Result<Flags, string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        "config.file": { type: "string", default: "config.yaml" },
        "web.listen-address": { type: "string", default: `:${DEFAULT_PORT}` },
        "web.config.file": { type: "string" },
        "log.level": { type: "string", default: "info" },
        "log.format": { type: "string", default: "logfmt" },
        shard: { type: "string", default: "0" },
        "total-shards": { type: "string", default: "1" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    return err(e instanceof Error ? e.message : String(e));
  }
  const level = values["log.level"];
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    return err(`--log.level: "${level}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const format = values["log.format"];
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    return err(`--log.format: "${format}" is not one of ${LOG_FORMATS.join(", ")}`);
  }
  const listen = parseListenAddress(values["web.listen-address"]);
  if (!listen.ok) return listen;
  const totalShards = Number(values["total-shards"]);
  const shard = Number(values.shard);
  if (!Number.isInteger(totalShards) || totalShards < 1)
    return err(`--total-shards: "${values["total-shards"]}" is not a whole number of at least 1`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= totalShards) {
    return err(`--shard: "${values.shard}" is not a whole number from 0 to ${totalShards - 1} (--total-shards minus 1)`);
  }
  return ok({
    configFile: values["config.file"],
    webConfigFile: values["web.config.file"],
    listenHost: listen.value.host,
    listenPort: listen.value.port,
    logLevel: level as LogLevel, // checked against LOG_LEVELS just above
    logFormat: format as LogFormat, // checked against LOG_FORMATS just above
    shard,
    totalShards,
    help: values.help,
    version: values.version,
  });
}
