/**
 * A metric family described once, as kube-state-metrics' FamilyGenerator
 * does: name, type, help, label names and the function from a subject to
 * its samples. The generator yields label values in the order of
 * `labelNames`, so a family's samples cannot carry labels its spec does not
 * name; the README table and the tests read the same spec.
 */
import { keptText, type Precompressed } from "./gzip-body.js";
import { escapeLabelValue, familyHeader, formatValue, type FamilySpec } from "./text-format.js";

/** One sample: a value per label name, in the order of the spec, and the sample's value. */
export type SampleOf<L extends readonly string[]> = readonly [labelValues: { readonly [K in keyof L]: string }, value: number];

export interface FamilyDefinition<T, L extends readonly string[]> extends FamilySpec {
  readonly labelNames: L;
  /** The subject's samples in this family; none when the value is unknown. */
  readonly generate: (subject: T) => readonly SampleOf<L>[];
}

export interface FamilyGenerator<T> extends FamilySpec {
  /** The subject's sample lines in this family, "" when it has none. */
  readonly render: (subject: T) => string;
  /** The HELP and TYPE lines, encoded and compressed once. */
  readonly header: Precompressed;
}

/** Checks a definition's label values against its label names (at compile time) and makes its renderer. */
export function defineFamily<T, const L extends readonly string[]>(definition: FamilyDefinition<T, L>): FamilyGenerator<T> {
  const { generate, ...spec } = definition;
  // `name{a="` , `,b="` …: the constant parts of each line, joined once here rather than on every sample.
  const openers = spec.labelNames.map((label, i) => `${i === 0 ? `${spec.name}{` : ","}${label}="`);
  const close = openers.length === 0 ? `${spec.name} ` : `"} `;
  const head = (values: readonly string[]): string => {
    let out = "";
    for (let i = 0; i < openers.length; i++) out += (i === 0 ? "" : '"') + (openers[i] ?? "") + escapeLabelValue(values[i] ?? "");
    return out + close;
  };
  return {
    ...spec,
    render(subject: T): string {
      let out = "";
      for (const [values, value] of generate(subject)) out += `${head(values)}${formatValue(value)}\n`;
      return out;
    },
    header: keptText(Buffer.from(familyHeader(spec), "utf8")),
  };
}
