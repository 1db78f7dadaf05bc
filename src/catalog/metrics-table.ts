import { ID_LABELS } from "../calculations/metrics.js";
import type { FamilySpec } from "../exposition/text-format.js";

export const TABLE_START = "<!-- metrics-table:start -->";
export const TABLE_END = "<!-- metrics-table:end -->";

const code = (label: string): string => `\`${label}\``;

/**
 * README's "extra labels": the labels beyond a calculation's ID labels. A
 * family with only some of them says which, as "(only `workgroup`)".
 */
function extraLabels(spec: FamilySpec): string {
  const ids = ID_LABELS.filter((label) => spec.labelNames.includes(label));
  const extra = spec.labelNames.filter((label) => !(ID_LABELS as readonly string[]).includes(label)).map(code);
  const partial = ids.length > 0 && ids.length < ID_LABELS.length;
  return [...(partial ? [`(only ${ids.map(code).join(", ")})`] : []), ...extra].join(", ");
}

/** README's metric table, one row per family in the order given. */
export function metricsTable(families: readonly FamilySpec[]): string {
  const row = (cells: readonly string[]): string => `|${cells.map((c) => (c === "" ? " " : ` ${c} `)).join("|")}|`;
  return [
    row(["metric", "type", "extra labels", "meaning"]),
    row(["---", "---", "---", "---"]),
    ...families.map((f) => row([code(f.name), f.type, extraLabels(f), f.doc])),
  ].join("\n");
}

/** `readme` with the text between the table's markers replaced; undefined when a marker is missing. */
export function withMetricsTable(readme: string, families: readonly FamilySpec[]): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return `${readme.slice(0, start + TABLE_START.length)}\n${metricsTable(families)}\n${readme.slice(end)}`;
}
