import { pino, type Logger } from "pino";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON logs on stdout. Anything that could carry a credential is redacted
 * by path, whatever a caller passes in.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
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
    destination ?? process.stdout,
  );
}
