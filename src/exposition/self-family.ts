import type { Registry } from "prom-client";
import type { FamilySpec } from "./text-format.js";

/**
 * A family prom-client renders, described like the families we render
 * ourselves, so that README and tests read one spec; a histogram also has
 * its buckets.
 */
export interface SelfFamilySpec<L extends readonly string[] = readonly string[]> extends FamilySpec {
  readonly labelNames: L;
  readonly buckets?: readonly number[];
}

/** Keeps a spec's label names as a tuple, so prom-client's label types follow from it. */
export const selfFamily = <const L extends readonly string[]>(spec: SelfFamilySpec<L>): SelfFamilySpec<L> => spec;

/** prom-client's options for a spec: its name, help and labels, and where to register. */
export function promOptions<L extends readonly string[]>(spec: SelfFamilySpec<L>, registry: Registry) {
  return {
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    ...(spec.buckets === undefined ? {} : { buckets: [...spec.buckets] }),
  };
}
