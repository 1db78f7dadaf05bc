/** A tag key as a label name: `tag_` and the key with every character outside [a-zA-Z0-9_] made `_` (as kube-state-metrics does). */
export function tagLabel(key: string): string {
  return `tag_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}
