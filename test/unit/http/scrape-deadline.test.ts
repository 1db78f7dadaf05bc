import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refreshBudgetMs } from "../../../src/http/scrape-deadline.js";

interface Row {
  readonly name: string;
  /** X-Prometheus-Scrape-Timeout-Seconds; undefined when Prometheus sent none. */
  readonly header: string | undefined;
  readonly configuredMs: number;
  readonly budgetMs: number;
}

const ROWS: readonly Row[] = [
  { name: "no header: the configured timeout", header: undefined, configuredMs: 10_000, budgetMs: 10_000 },
  { name: "Prometheus's default 10 s, less the margin", header: "10", configuredMs: 10_000, budgetMs: 9_500 },
  { name: "fractional seconds", header: "2.5", configuredMs: 10_000, budgetMs: 2_000 },
  { name: "one second", header: "1", configuredMs: 10_000, budgetMs: 500 },
  { name: "shorter than the margin: the 100 ms floor", header: "0.2", configuredMs: 10_000, budgetMs: 100 },
  { name: "just over the margin: still the floor", header: "0.55", configuredMs: 10_000, budgetMs: 100 },
  { name: "a header above the configured timeout: the configured one", header: "30", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "a header below a long configured timeout: the header", header: "15", configuredMs: 60_000, budgetMs: 14_500 },
  { name: "a huge header: the configured timeout", header: "1e9", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "zero: nonsense, the configured timeout", header: "0", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "negative: nonsense, the configured timeout", header: "-1", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "not a number", header: "abc", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "a Prometheus duration rather than seconds", header: "10s", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "empty", header: "", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "Infinity", header: "Infinity", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "NaN", header: "NaN", configuredMs: 10_000, budgetMs: 10_000 },
  { name: "a short configured timeout wins over the header", header: "10", configuredMs: 2_000, budgetMs: 2_000 },
];

describe("refreshBudgetMs", () => {
  for (const row of ROWS) {
    it(`${row.name} (${row.header === undefined ? "no header" : JSON.stringify(row.header)}, ${row.configuredMs} ms configured) gives ${row.budgetMs} ms`, () => {
      assert.equal(refreshBudgetMs(row.header, row.configuredMs), row.budgetMs);
    });
  }
});
