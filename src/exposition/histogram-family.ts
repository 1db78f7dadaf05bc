/**
 * A histogram family described once, as the other families are: its
 * `_bucket`, `_sum` and `_count` lines come from three families made by
 * defineFamily, so a histogram's samples cannot carry labels its spec does
 * not name either. Buckets are cumulative and end in `le="+Inf"`, whose
 * value is the count, as the exposition format requires.
 */
import { defineFamily, type FamilyGenerator, type SampleOf } from "./family-generator.js";
import { keptText } from "./gzip-body.js";
import { familyHeader, formatValue } from "./text-format.js";

/** One label set's observations: per upper bound (in the order of `bounds`), how many were at most it; and their count and sum. */
export interface HistogramValues {
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** One label set of the histogram: its label values in the order of `labelNames`, and its values. */
export type HistogramSample<L extends readonly string[]> = readonly [
  labelValues: { readonly [K in keyof L]: string },
  values: HistogramValues,
];

export interface HistogramDefinition<T, L extends readonly string[]> {
  readonly name: string;
  readonly help: string;
  readonly doc: string;
  readonly labelNames: L;
  /** Upper bounds of the buckets, ascending; `+Inf` is added. */
  readonly bounds: readonly number[];
  readonly generate: (subject: T) => readonly HistogramSample<L>[];
}

export interface HistogramGenerator<T> extends FamilyGenerator<T> {
  readonly bounds: readonly number[];
}

type Entry = readonly [labelValues: readonly string[], values: HistogramValues];

export function defineHistogram<T, const L extends readonly string[]>(definition: HistogramDefinition<T, L>): HistogramGenerator<T> {
  const { name, help, doc, labelNames, bounds, generate } = definition;
  for (let i = 1; i < bounds.length; i++) {
    if (!((bounds[i] ?? NaN) > (bounds[i - 1] ?? NaN))) throw new Error(`${name}: bucket bounds must ascend`);
  }
  const les = [...bounds.map(formatValue), "+Inf"];
  const line = { help, doc, type: "gauge" as const };
  // Label values travel as plain arrays inside (a tuple of strings is one); the public generate is checked against labelNames at compile time.
  const bucket = defineFamily({
    ...line,
    name: `${name}_bucket`,
    labelNames: [...labelNames, "le"],
    generate: ([labels, values]: Entry) =>
      les.map((le, i) => [[...labels, le], i < bounds.length ? (values.buckets[i] ?? 0) : values.count] as SampleOf<string[]>),
  });
  const sum = defineFamily({
    ...line,
    name: `${name}_sum`,
    labelNames: [...labelNames],
    generate: ([labels, values]: Entry) => [[[...labels], values.sum] as SampleOf<string[]>],
  });
  const count = defineFamily({
    ...line,
    name: `${name}_count`,
    labelNames: [...labelNames],
    generate: ([labels, values]: Entry) => [[[...labels], values.count] as SampleOf<string[]>],
  });
  const parts = [bucket, sum, count];
  const entries = (subject: T): readonly Entry[] => generate(subject);
  return {
    name,
    help,
    doc,
    type: "histogram",
    labelNames,
    bounds,
    // Per label set its buckets, then its sum and count, as the exposition format lays a histogram out.
    render: (subject) => entries(subject).reduce((out, entry) => out + parts.map((p) => p.render(entry)).join(""), ""),
    header: keptText(Buffer.from(familyHeader({ name, help, type: "histogram" }), "utf8")),
  };
}
