/**
 * How an entry of `metrics.allow` / `metrics.deny` is read, as
 * kube-state-metrics reads --metric-allowlist / --metric-denylist: a family
 * name or a regular expression matched against whole names. The names it
 * is matched against are handed in (the catalog's, src/catalog/), so that
 * validating a config loads no family.
 */

/** The lists as the config holds them; an empty list is no list. */
export interface FamilySelection {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** The names the lists are checked and applied against. */
export interface FamilyNames {
  /** The families the lists choose among, in the order of README's table. */
  readonly filterable: readonly string[];
  /** The families no list can hide: naming them alone is an error. */
  readonly alwaysShown: readonly string[];
}

// prom-client's default metrics, which no family list names and no list can hide.
const DEFAULT_METRIC_PREFIX = /^(process|nodejs)_/;

/** An entry as a pattern: anchored at both ends, as kube-state-metrics does, so `athena_session_up` never matches a longer name. */
function compile(entry: string): RegExp {
  return new RegExp(`^(?:${entry})$`, "u");
}

/** What is wrong with one list entry, worded for the config's author; undefined when it names at least one family. */
export function checkFamilyPattern(entry: string, names: FamilyNames): string | undefined {
  const shown = JSON.stringify(entry.length > 80 ? `${entry.slice(0, 79)}…` : entry);
  let pattern: RegExp;
  try {
    pattern = compile(entry);
  } catch (e) {
    return `${shown} is not a valid regular expression (${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e)})`;
  }
  if (names.filterable.some((name) => pattern.test(name))) return undefined;
  if (names.alwaysShown.some((name) => pattern.test(name)) || DEFAULT_METRIC_PREFIX.test(entry)) {
    return `${shown} names the exporter's own health, which is always exposed and cannot be filtered`;
  }
  return `${shown} is not a family name and matches none as a regular expression; close names: ${closestNames(entry, names.filterable).join(", ")}`;
}

/** The families a scrape leaves out: with `allow`, every filterable family it does not match; else those `deny` matches. */
export function hiddenFamilies(selection: FamilySelection, filterable: readonly string[]): ReadonlySet<string> {
  const matchesAny = (entries: readonly string[]): ((name: string) => boolean) => {
    const patterns = entries.map(compile);
    return (name) => patterns.some((pattern) => pattern.test(name));
  };
  if (selection.allow.length > 0) {
    const allowed = matchesAny(selection.allow);
    return new Set(filterable.filter((name) => !allowed(name)));
  }
  return new Set(filterable.filter(matchesAny(selection.deny)));
}

/** The three names nearest to `entry` by edit distance, nearest first. */
function closestNames(entry: string, names: readonly string[]): string[] {
  return names
    .map((name) => [name, editDistance(entry, name)] as const)
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
