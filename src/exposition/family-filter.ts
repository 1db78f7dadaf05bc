/**
 * Cardinality controls: `metrics.allow` / `metrics.deny` in the config, as
 * kube-state-metrics' --metric-allowlist / --metric-denylist. Each entry is
 * a family name or a regular expression matched against whole names. The
 * choice is made once per configuration, as the set of families the render
 * paths skip whole: a settled calculation's text stays where it is kept, so
 * a family turned on again is back at the next scrape without asking Athena.
 *
 * The exporter's own health (athena_exporter_*, process_*, nodejs_*) is
 * never filtered: it is a few dozen series with no calculation or session
 * in their labels, so it is not where cardinality comes from, and it is what
 * says whether the exporter works, a reload of a filter included
 * (athena_exporter_config_last_reload_successful).
 */
import { ALL_FAMILIES } from "./families.js";
import { PROCESS_FAMILIES, SELF_FAMILIES } from "../self/metrics.js";

/** The lists as the config holds them; an empty list is no list. */
export interface FamilySelection {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

const ALWAYS_SHOWN = new Set([...SELF_FAMILIES, ...PROCESS_FAMILIES].map((family) => family.name));
// prom-client's default metrics, which ALL_FAMILIES leaves out.
const DEFAULT_METRIC_PREFIX = /^(process|nodejs)_/;

/** The families the lists choose among, in the order of README's table: every one but the exporter's own health. */
export const FILTERABLE_FAMILIES: readonly string[] = ALL_FAMILIES.map((family) => family.name).filter((name) => !ALWAYS_SHOWN.has(name));

/** An entry as a pattern: anchored at both ends, as kube-state-metrics does, so `athena_session_up` never matches a longer name. */
function compile(entry: string): RegExp {
  return new RegExp(`^(?:${entry})$`, "u");
}

/** What is wrong with one list entry, worded for the config's author; undefined when it names at least one family. */
export function checkFamilyPattern(entry: string): string | undefined {
  const shown = JSON.stringify(entry.length > 80 ? `${entry.slice(0, 79)}…` : entry);
  let pattern: RegExp;
  try {
    pattern = compile(entry);
  } catch (e) {
    return `${shown} is not a valid regular expression (${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e)})`;
  }
  if (FILTERABLE_FAMILIES.some((name) => pattern.test(name))) return undefined;
  if ([...ALWAYS_SHOWN].some((name) => pattern.test(name)) || DEFAULT_METRIC_PREFIX.test(entry)) {
    return `${shown} names the exporter's own health, which is always exposed and cannot be filtered`;
  }
  return `${shown} is not a family name and matches none as a regular expression; close names: ${closestNames(entry).join(", ")}`;
}

/** The families a scrape leaves out: with `allow`, every filterable family it does not match; else those `deny` matches. */
export function hiddenFamilies(selection: FamilySelection): ReadonlySet<string> {
  const matchesAny = (entries: readonly string[]): ((name: string) => boolean) => {
    const patterns = entries.map(compile);
    return (name) => patterns.some((pattern) => pattern.test(name));
  };
  if (selection.allow.length > 0) {
    const allowed = matchesAny(selection.allow);
    return new Set(FILTERABLE_FAMILIES.filter((name) => !allowed(name)));
  }
  return new Set(FILTERABLE_FAMILIES.filter(matchesAny(selection.deny)));
}

/** The three filterable names nearest to `entry` by edit distance, nearest first. */
function closestNames(entry: string): string[] {
  return FILTERABLE_FAMILIES.map((name) => [name, editDistance(entry, name)] as const)
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .map(([name]) => name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
