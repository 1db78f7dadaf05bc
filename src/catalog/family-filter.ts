/**
 * Cardinality controls: `metrics.allow` / `metrics.deny` in the config, as
 * kube-state-metrics' --metric-allowlist / --metric-denylist, applied to
 * this catalog's families (how an entry is read: config/family-patterns.ts).
 * The choice is made once per configuration, as the set of families the
 * render paths skip whole: a settled calculation's text stays where it is
 * kept, so a family turned on again is back at the next scrape without
 * asking Athena.
 *
 * The exporter's own health (athena_exporter_*, process_*, nodejs_*) is
 * never filtered: it is a few dozen series with no calculation or session
 * in their labels, so it is not where cardinality comes from, and it is what
 * says whether the exporter works, a reload of a filter included
 * (athena_exporter_config_last_reload_successful).
 */
import { ALL_FAMILIES } from "./families.js";
import { PROCESS_FAMILIES, SELF_FAMILIES } from "../self/metrics.js";
import { hiddenFamilies as hiddenAmong, type FamilyNames, type FamilySelection } from "../config/family-patterns.js";

const ALWAYS_SHOWN: readonly string[] = [...SELF_FAMILIES, ...PROCESS_FAMILIES].map((family) => family.name);

/** The families the lists choose among, in the order of README's table: every one but the exporter's own health. */
export const FILTERABLE_FAMILIES: readonly string[] = ALL_FAMILIES.map((family) => family.name).filter(
  (name) => !ALWAYS_SHOWN.includes(name),
);

/** What a config is checked against: whoever loads one hands it these names. */
export const FAMILY_NAMES: FamilyNames = { filterable: FILTERABLE_FAMILIES, alwaysShown: ALWAYS_SHOWN };

/** The families a scrape leaves out for this selection. */
export function hiddenFamilies(selection: FamilySelection): ReadonlySet<string> {
  return hiddenAmong(selection, FILTERABLE_FAMILIES);
}
