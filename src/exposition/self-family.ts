import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { FamilySpec, MetricType } from "./text-format.js";

/**
 * A family prom-client measures, described like the families we render
 * ourselves, so that README and tests read one spec; a histogram also has
 * its buckets.
 */
export interface SelfFamilySpec<L extends readonly string[] = readonly string[], T extends MetricType = MetricType> extends FamilySpec {
  readonly labelNames: L;
  readonly type: T;
  readonly buckets?: readonly number[];
}

/** Keeps a spec's label names as a tuple and its type as its word, so prom-client's types follow from it. */
export const selfFamily = <const L extends readonly string[], const T extends MetricType>(
  spec: SelfFamilySpec<L, T>,
): SelfFamilySpec<L, T> => spec;

/** The prom-client metric a spec's type names, labelled by its label names. */
export type PromMetric<T extends MetricType, N extends string> = T extends "counter"
  ? Counter<N>
  : T extends "gauge"
    ? Gauge<N>
    : Histogram<N>;

/**
 * The metric of a spec, registered in `registry`: its name, help, labels,
 * buckets and its kind all come from the spec, declared once.
 */
export function promMetric<const L extends readonly string[], T extends MetricType>(
  spec: SelfFamilySpec<L, T>,
  registry: Registry,
): PromMetric<T, L[number]> {
  const options = {
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    ...(spec.buckets === undefined ? {} : { buckets: [...spec.buckets] }),
  };
  // TypeScript does not narrow T by switching on spec.type; each branch makes the kind PromMetric names for it.
  switch (spec.type) {
    case "counter":
      return new Counter(options) as PromMetric<T, L[number]>;
    case "gauge":
      return new Gauge(options) as PromMetric<T, L[number]>;
    case "histogram":
      return new Histogram(options) as PromMetric<T, L[number]>;
    default: {
      const unreachable: never = spec.type;
      return unreachable;
    }
  }
}
