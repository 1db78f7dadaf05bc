import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { toLogfmt } from "./logfmt.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["logfmt", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A stream that takes pino's JSON lines and writes them to `out` as logfmt lines. */
function logfmtStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => toLogfmt(JSON.parse(l) as Record<string, unknown>)); // pino writes whole JSON lines
      out.write(lines.map((l) => `${l}\n`).join(""));
      done();
    },
  });
}

/**
 * Logs on stdout, logfmt or JSON. Anything that could carry a credential is redacted
 * by path, whatever a caller passes in.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream, format: LogFormat = "json"): Logger {
  const out = destination ?? process.stdout;
  return pino(
    {
      level,
      base: { service: "athena-calculation-exporter" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          "credentials",
          "*.credentials",
          "secretAccessKey",
          "*.secretAccessKey",
          "sessionToken",
          "*.sessionToken",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "req.headers.authorization",
          "password",
          "*.password",
        ],
        censor: "[redacted]",
      },
    },
    format === "logfmt" ? logfmtStream(out) : out,
  );
}
