// logfmt, the Prometheus exporters' default log format (go-kit's logfmt):
// `ts=… level=info msg="exporter listening" key=value`, one record a line.
// Hand-written because node_modules is shared and cannot take a new package
// (pino-logfmt would do the same); pino's JSON record is the input.

const FIRST = ["time", "level", "msg"] as const;

/** A value as logfmt writes it: bare when it can be, else quoted with \ " and control characters escaped. */
export function logfmtValue(value: unknown): string {
  const text =
    value === null || value === undefined
      ? "null"
      : typeof value === "string"
        ? value
        : typeof value === "number" || typeof value === "boolean"
          ? String(value)
          : JSON.stringify(value);
  if (text !== "" && !/[\s"=\\\p{Cc}]/u.test(text)) return text;
  return JSON.stringify(text); // JSON's string escapes are logfmt's: \" \\ \n \t \u0000
}

/** A key as logfmt needs it: no space, quote or equals sign. */
function logfmtKey(key: string): string {
  return key.replace(/[\s"=\p{Cc}]/gu, "_") || "_";
}

/** One pino JSON record as one logfmt line (pino's `time` is written as `ts`). */
export function toLogfmt(record: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const key of FIRST) {
    if (key in record) parts.push(`${key === "time" ? "ts" : key}=${logfmtValue(record[key])}`);
  }
  for (const [key, value] of Object.entries(record)) {
    if (!(FIRST as readonly string[]).includes(key)) parts.push(`${logfmtKey(key)}=${logfmtValue(value)}`);
  }
  return parts.join(" ");
}
