import type { Calculation } from "./calculation.js";
import type { CalculationEntry } from "./cache.js";
import { CALCULATION_FAMILIES, renderCalculation, renderSettled, type KnownCalculation } from "./metrics.js";
import { assembleFamilies } from "../exposition/text-format.js";
import type { BodyPart } from "../exposition/gzip-body.js";
import { SettledArena, type SettledHandle } from "../exposition/settled-arena.js";

/**
 * The text of the per-calculation families. Settled calculations are
 * rendered once, when they settle, into the arena's byte streams that a
 * scrape writes as they are; the others are rendered on each scrape from
 * what the cache holds.
 */
/** The one family whose text moves with the clock (an unfinished calculation's duration): rendered on every scrape. */
const CLOCK_FAMILY = CALCULATION_FAMILIES.findIndex((f) => f.name === "athena_calculation_duration_seconds");

export class CalculationExposition {
  readonly #arena = new SettledArena(CALCULATION_FAMILIES.length);
  readonly #settled = new Map<string, SettledHandle>();
  /**
   * An unfinished calculation's text, kept while the cache holds the same
   * entry (a refresh replaces it): a warm scrape renders only the clock's
   * family again.
   */
  readonly #rendered = new WeakMap<CalculationEntry, readonly string[]>();

  /** Keeps a calculation's text for good: it never changes again. */
  settle(calculation: Calculation, workgroup: string): void {
    this.drop(calculation.id);
    this.#settled.set(calculation.id, this.#arena.add(renderSettled(calculation.id, calculation, workgroup)));
  }

  /** Whether a calculation's text is kept for good: it is never fetched again. */
  isSettled(id: string): boolean {
    return this.#settled.has(id);
  }

  /** Takes a settled calculation's text out. */
  drop(id: string): void {
    const handle = this.#settled.get(id);
    if (handle === undefined) return;
    this.#arena.remove(handle);
    this.#settled.delete(id);
  }

  /**
   * The families in parts to write in order: the settled text as the
   * arena holds it (with its gzip members), then the unfinished and the failing among `ids`,
   * rendered now. Every ID has its up sample: one Athena has not answered
   * for yet shows up 0 with the error "Pending".
   */
  render(ids: readonly string[], lookup: (id: string) => CalculationEntry | undefined, nowSeconds: number): BodyPart[] {
    const dynamic: string[][] = CALCULATION_FAMILIES.map(() => []);
    const clockFamily = CALCULATION_FAMILIES[CLOCK_FAMILY];
    for (const id of ids) {
      if (this.#settled.has(id)) continue;
      const entry = lookup(id);
      let known: KnownCalculation | undefined;
      if (entry?.calculation !== undefined && entry.workgroup !== undefined && entry.refreshedAt !== undefined) {
        known = { calculation: entry.calculation, workgroup: entry.workgroup, time: { nowSeconds, refreshedAt: entry.refreshedAt } };
      }
      const subject = { id, error: entry === undefined ? ("Pending" as const) : entry.error?.code, known };
      let lines = entry === undefined ? undefined : this.#rendered.get(entry);
      if (lines === undefined) {
        lines = renderCalculation(subject);
        if (entry !== undefined) this.#rendered.set(entry, lines);
      }
      lines.forEach((text, family) => {
        const now = family === CLOCK_FAMILY && clockFamily !== undefined ? clockFamily.render(subject) : text;
        if (now !== "") dynamic[family]?.push(now);
      });
    }
    return assembleFamilies(CALCULATION_FAMILIES, (family) => this.#arena.precompressed(family), dynamic);
  }
}
