/**
 * A prom-client registry in the text format, formatted here rather than
 * by `registry.metrics()`. prom-client measures (its collectors, our
 * counters and histograms); formatting is ours, as it is for every other
 * family. prom-client's formatter builds label arrays, shared-label caches
 * and regular-expression escapes for each of the ~300 self-metric lines,
 * on every scrape.
 */
import type { Registry } from "prom-client";
import { familyHeader, formatValue, sample, type Labels } from "./text-format.js";

/** prom-client's labels as ours: a histogram's `le` is a number (or "+Inf"), written as a sample value is. */
function labelsOf(labels: Readonly<Record<string, string | number | undefined>>): Labels {
  const out: (readonly [string, string])[] = [];
  for (const name in labels) {
    const value = labels[name];
    if (value !== undefined) out.push([name, typeof value === "number" ? formatValue(value) : value]);
  }
  return out;
}

/**
 * Every family of `registry`, each with its header even when it has no
 * samples yet (as prom-client writes them), in registration order.
 */
export async function registryText(registry: Registry): Promise<string> {
  let out = "";
  for (const family of await registry.getMetricsAsJSON()) {
    // Typed as a numeric enum by prom-client's declarations, but the words "counter", "gauge"... at run time.
    out += familyHeader({ name: family.name, help: family.help, type: String(family.type) });
    for (const value of family.values) {
      const name = "metricName" in value && typeof value.metricName === "string" ? value.metricName : family.name;
      out += sample(name, labelsOf(value.labels), value.value);
    }
  }
  return out;
}
