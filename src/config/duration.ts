import { echoValue } from "./echo.js";
import { err, ok, type Result } from "../result.js";

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Prometheus duration syntax ("1h30m", "30s", "250ms"): users write these in
// prometheus.yml already, so the exporter's config takes the same form.
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Why a YAML value that is not text is no duration. `ttl: 30` is the usual
 * slip: YAML reads it as a number, and the unit is what is missing.
 */
export function notADuration(value: unknown): string {
  if (typeof value === "number") {
    return `${echoValue(value)} is a number without a unit: use a duration such as "${String(value)}s" (ms, s, m, h, d or w)`;
  }
  const what = value === null ? "an empty value" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a mapping" : typeof value;
  return `expected a duration such as "30s", got ${what}`;
}

/** Parses a Prometheus-style duration into milliseconds. */
export function parseDuration(text: string): Result<number, string> {
  const match = DURATION_RE.exec(text);
  if (text === "" || match === null) {
    return err(`${echoValue(text)} is not a duration: use a number with a unit, such as 30s, 5m, 1h30m or 250ms`);
  }
  const units = ["w", "d", "h", "m", "s", "ms"] as const;
  let total = 0;
  units.forEach((unit, i) => {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * (UNIT_MS[unit] ?? 0);
  });
  return ok(total);
}
