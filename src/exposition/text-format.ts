/**
 * Prometheus text exposition format 0.0.4, for the families this exporter
 * renders itself. Finished calculations never change, so their lines are
 * rendered once and kept as text; prom-client's reset-and-refill model would
 * redo that work on every scrape.
 */

import { partBytes, type BodyPart, type Precompressed } from "./gzip-body.js";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "gauge" | "counter" | "histogram";

/** What a family is, wherever its samples come from (our renderers or prom-client). */
export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Every label of its samples, in order (a histogram's `le` aside). */
  readonly labelNames: readonly string[];
  /** What README's metric table says of it (Markdown); `help` is the plain text of the exposition. */
  readonly doc: string;
}

/** Longest label value kept from free text (descriptions, reasons, paths). */
export const MAX_LABEL_VALUE_LENGTH = 200;

export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n"));
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\\" ? "\\\\" : "\\n"));
}

/** Cuts free text to a bounded length without splitting a surrogate pair. */
export function truncateLabelValue(value: string, max = MAX_LABEL_VALUE_LENGTH): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  return `${chars.slice(0, max - 1).join("")}…`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export type Labels = readonly (readonly [string, string])[];

export function formatLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

export function sample(name: string, labels: Labels, value: number): string {
  return `${name}${formatLabels(labels)} ${formatValue(value)}\n`;
}

/** A family's HELP and TYPE lines; `type` is a string, as prom-client's registries give it. */
export function familyHeader(spec: { readonly name: string; readonly help: string; readonly type: string }): string {
  return `# HELP ${spec.name} ${escapeHelp(spec.help)}\n# TYPE ${spec.name} ${spec.type}\n`;
}

/** No family left out: what a config without metrics.allow / metrics.deny shows. */
export const NOTHING_HIDDEN: ReadonlySet<string> = new Set();

/**
 * Joins pre-rendered sample lines family by family: `bodies[i]` holds every
 * sample of `specs[i]`. Families without samples, and those named in
 * `hidden` (metrics.allow / metrics.deny), are left out.
 */
export function renderFamilies(
  specs: readonly FamilySpec[],
  bodies: readonly (readonly string[])[],
  hidden: ReadonlySet<string> = NOTHING_HIDDEN,
): string {
  let out = "";
  specs.forEach((spec, i) => {
    if (hidden.has(spec.name)) return;
    const lines = bodies[i];
    if (lines === undefined || lines.length === 0) return;
    out += familyHeader(spec) + lines.join("");
  });
  return out;
}

/**
 * Assembles families into parts to write in order: per family, its header
 * and then its parts (text kept encoded and compressed, or rendered for
 * this scrape). Families with no bytes are left out, and so are those
 * named in `hidden` (metrics.allow / metrics.deny). Each family's parts
 * stay whole, so a family can be left out without touching another's
 * bytes, and kept text stays kept.
 */
export function assembleFamilies(
  specs: readonly (FamilySpec & { readonly header: Precompressed })[],
  partsOf: (family: number) => readonly (BodyPart | undefined)[],
  hidden: ReadonlySet<string> = NOTHING_HIDDEN,
): BodyPart[] {
  const parts: BodyPart[] = [];
  specs.forEach((spec, family) => {
    if (hidden.has(spec.name)) return;
    const own = partsOf(family).filter((part): part is BodyPart => part !== undefined && partBytes(part) > 0);
    if (own.length === 0) return;
    parts.push(spec.header, ...own);
  });
  return parts;
}
