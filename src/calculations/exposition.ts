import type { Calculation } from "../athena/calculation.js";
import type { CalculationEntry } from "./cache.js";
import { CALCULATION_FAMILIES, renderSettled, type CalculationSubject } from "./metrics.js";
import { assembleFamilies } from "../exposition/text-format.js";
import type { BodyPart } from "../exposition/gzip-body.js";
import { MetricsStore } from "../exposition/metrics-store.js";
import { SettledArena, type SettledHandle } from "../exposition/settled-arena.js";

/** The one family whose text moves with the clock (an unfinished calculation's duration): rendered on every scrape. */
const CLOCK_FAMILY = CALCULATION_FAMILIES.findIndex((f) => f.name === "athena_calculation_duration_seconds");

function subjectOf(id: string, entry: CalculationEntry | undefined): CalculationSubject {
  const error = entry === undefined ? "Pending" : entry.error?.code;
  const calculation = entry?.value?.calculation;
  const refreshedAt = entry?.refreshedAt;
  if (calculation === undefined || entry?.value === undefined || refreshedAt === undefined) return { id, error, known: undefined };
  return { id, error, known: { calculation, workgroup: entry.value.workgroup, time: { nowSeconds: refreshedAt, refreshedAt } } };
}

/** The subject as of a scrape's clock: only the duration family reads it. */
function atNow(subject: CalculationSubject, nowSeconds: number): CalculationSubject {
  const { known } = subject;
  if (known === undefined || known.time === "settled") return subject;
  return { ...subject, known: { ...known, time: { nowSeconds, refreshedAt: known.time.refreshedAt } } };
}

/**
 * The text of the per-calculation families. A settled calculation is
 * rendered once, when it settles, into the arena's byte streams that a
 * scrape writes as they are; any other is rendered when its cache entry
 * changes (a refresh, a failure), and only its duration on each scrape.
 */
export class CalculationExposition {
  readonly #arena = new SettledArena(CALCULATION_FAMILIES.length);
  readonly #settled = new Map<string, SettledHandle>();
  readonly #unsettled = new MetricsStore(CALCULATION_FAMILIES, { family: CLOCK_FAMILY, at: atNow });

  /** Keeps a calculation's text for good: it never changes again. */
  settle(calculation: Calculation, workgroup: string): void {
    this.drop(calculation.id);
    this.#settled.set(calculation.id, this.#arena.add(renderSettled(calculation.id, calculation, workgroup)));
  }

  isSettled(id: string): boolean {
    return this.#settled.has(id);
  }

  /**
   * Renders what is known of an unsettled calculation: its last answer, or
   * up 0 with why it failed, or "Pending" while Athena has not answered.
   */
  show(id: string, entry: CalculationEntry | undefined): void {
    if (!this.#settled.has(id)) this.#unsettled.set(id, subjectOf(id, entry));
  }

  /** Takes a calculation's text out. */
  drop(id: string): void {
    this.#unsettled.delete(id);
    const handle = this.#settled.get(id);
    if (handle === undefined) return;
    this.#arena.remove(handle);
    this.#settled.delete(id);
  }

  /**
   * The families in parts to write in order: per family, the settled text
   * as the arena holds it (with its kept deflate pieces), then the other
   * calculations'. Families in `hidden` are left out, their kept text kept
   * for when they are shown again.
   */
  parts(nowSeconds: number, hidden: ReadonlySet<string>): BodyPart[] {
    return assembleFamilies(
      CALCULATION_FAMILIES,
      (family) => [
        this.#arena.precompressed(family),
        hidden.has(CALCULATION_FAMILIES[family]?.name ?? "") ? undefined : this.#unsettled.text(family, nowSeconds),
      ],
      hidden,
    );
  }
}
