import { sameList } from "../same-list.js";
import type { Calculation } from "../athena/calculation.js";
import type { CalculationEntry } from "./cache.js";
import { CALCULATION_FAMILIES, renderCalculation, renderSettled, type CalculationSubject } from "./metrics.js";
import type { FamilyGenerator } from "../exposition/family-generator.js";
import { assembleFamilies, formatValue, NOTHING_HIDDEN } from "../exposition/text-format.js";
import { keptPromise, keptText, type BodyPart, type Precompressed } from "../exposition/gzip-body.js";
import { deflateLines, planLines, type LinePlan } from "../exposition/line-deflate.js";
import { SettledArena, type SettledHandle } from "../exposition/settled-arena.js";

/** The one family whose text moves with the clock (an unfinished calculation's duration): rendered on every scrape. */
const CLOCK_FAMILY = CALCULATION_FAMILIES.findIndex((f) => f.name === "athena_calculation_duration_seconds");
const clockFamily = CALCULATION_FAMILIES[CLOCK_FAMILY];

/**
 * The text of the unsettled calculations as of the cache entries it was
 * rendered from: it stands until one of them is replaced (a refresh, a
 * failure) or the set changes, so a warm scrape renders only the clock's
 * family, and a gzip scrape finds the rest compressed already.
 */
interface UnsettledText {
  readonly ids: readonly string[];
  readonly entries: readonly (CalculationEntry | undefined)[];
  /** Per family, the text of every family but the clock's. */
  readonly kept: readonly (Precompressed | undefined)[];
  /** Per calculation, what its lines were rendered from, with the clock each scrape moves to its own now. */
  readonly clocked: readonly Clocked[];
  /** Per calculation, its lines of the clock's family up to the value, encoded: only the values are formatted on each scrape. */
  readonly clockHeads: readonly (readonly Buffer[])[];
  /** The same heads one after the other, with how each repeats the one before (for a gzip scrape's deflate) and their bytes. */
  readonly clockPlan: LinePlan;
}

/** The longest text formatValue gives ("-0.0000012345678901234567": String() of a double is at most 25), and the newline. */
const MAX_VALUE_BYTES = 26;

/**
 * What the exposition renders of a calculation the cache holds (or does
 * not hold yet: "Pending"), with its render time kept apart: the time is
 * the one part that moves from scrape to scrape, so a warm scrape sets it
 * rather than making the subject again for each unfinished calculation.
 */
interface Clocked {
  readonly subject: CalculationSubject;
  readonly time: { nowSeconds: number; readonly refreshedAt: number } | undefined;
}

function clockedSubjectOf(id: string, entry: CalculationEntry | undefined, nowSeconds: number): Clocked {
  const error = entry === undefined ? "Pending" : entry.error?.code;
  if (entry?.calculation === undefined || entry.workgroup === undefined || entry.refreshedAt === undefined) {
    return { subject: { id, error, known: undefined }, time: undefined };
  }
  const time = { nowSeconds, refreshedAt: entry.refreshedAt };
  return { subject: { id, error, known: { calculation: entry.calculation, workgroup: entry.workgroup, time } }, time };
}

/**
 * The clock family's lines for this scrape: each kept head, then its value
 * as of now, written straight into one buffer (the largest text a warm
 * scrape renders: one line per unfinished calculation). A gzip scrape
 * deflates it from the heads' plan (line-deflate.ts) rather than with zlib.
 */
function clockText(family: FamilyGenerator<CalculationSubject>, text: UnsettledText, nowSeconds: number): BodyPart {
  const plan = text.clockPlan;
  const out = Buffer.allocUnsafe(plan.headBytes + plan.heads.length * MAX_VALUE_BYTES);
  const lineEnds = new Uint32Array(plan.heads.length);
  let line = 0;
  let at = 0;
  for (const { time } of text.clocked) if (time !== undefined) time.nowSeconds = nowSeconds;
  let i = 0;
  for (const { subject } of text.clocked) {
    const values = family.values(subject);
    const heads = text.clockHeads[i++] ?? [];
    // The heads were made from the same entry, so the count agrees; if it ever did not, the lines are rendered whole.
    if (values.length !== heads.length) return Buffer.from(text.clocked.map(({ subject }) => family.render(subject)).join(""), "utf8");
    for (let j = 0; j < values.length; j++) {
      const head = heads[j] as Buffer;
      out.set(head, at);
      at += head.length;
      const value = formatValue(values[j] ?? NaN);
      // ASCII: digits, sign, point, exponent, NaN, Inf.
      for (let c = 0; c < value.length; c++) out[at++] = value.charCodeAt(c);
      out[at++] = 0x0a;
      lineEnds[line++] = at;
    }
  }
  const lines = out.subarray(0, at);
  return { text: [lines], bytes: lines.length, gzip: keptPromise(() => Promise.resolve([deflateLines(plan, lines, lineEnds)])) };
}

/**
 * The text of the per-calculation families. Settled calculations are
 * rendered once, when they settle, into the arena's byte streams that a
 * scrape writes as they are; the others are rendered when their cache
 * entry changes, and only their durations on each scrape.
 */
export class CalculationExposition {
  readonly #arena = new SettledArena(CALCULATION_FAMILIES.length);
  readonly #settled = new Map<string, SettledHandle>();
  /** Bumped when a calculation settles or is dropped: what `unsettled` last answered stands until then. */
  #version = 0;
  #unsettledOf: { readonly ids: readonly string[]; readonly version: number; readonly unsettled: readonly string[] } = {
    ids: [],
    version: 0,
    unsettled: [],
  };
  #unsettledText: UnsettledText = {
    ids: [],
    entries: [],
    kept: [],
    clocked: [],
    clockHeads: [],
    clockPlan: planLines([]),
  };

  /** Keeps a calculation's text for good: it never changes again. */
  settle(calculation: Calculation, workgroup: string): void {
    this.drop(calculation.id);
    this.#settled.set(calculation.id, this.#arena.add(renderSettled(calculation.id, calculation, workgroup)));
    this.#version++;
  }

  /** Takes a settled calculation's text out. */
  drop(id: string): void {
    const handle = this.#settled.get(id);
    if (handle === undefined) return;
    this.#arena.remove(handle);
    this.#settled.delete(id);
    this.#version++;
  }

  /**
   * The IDs among `ids` not settled, in order: those still fetched and
   * rendered. Worked out again only when `ids` (by identity) or the settled
   * set changed, so a warm scrape of 10,000 does not look each one up.
   */
  unsettled(ids: readonly string[]): readonly string[] {
    const last = this.#unsettledOf;
    if (last.ids === ids && last.version === this.#version) return last.unsettled;
    const unsettled = ids.filter((id) => !this.#settled.has(id));
    this.#unsettledOf = { ids, version: this.#version, unsettled };
    return unsettled;
  }

  /**
   * The families in parts to write in order: the settled text as the arena
   * holds it (with its kept deflate pieces), then that of `unsettled` (the
   * unfinished and the failing, from `unsettled()`). Every ID has its up
   * sample: one Athena has not answered for yet shows up 0 with the error
   * "Pending". Families in `hidden` are left out, their settled text kept
   * for when they are shown again.
   */
  render(
    unsettled: readonly string[],
    lookup: (id: string) => CalculationEntry | undefined,
    nowSeconds: number,
    hidden: ReadonlySet<string> = NOTHING_HIDDEN,
  ): BodyPart[] {
    const entries = unsettled.map(lookup);
    const text = this.#unsettledTextFor(unsettled, entries, nowSeconds);
    const clock = clockFamily !== undefined && !hidden.has(clockFamily.name) ? clockText(clockFamily, text, nowSeconds) : undefined;
    return assembleFamilies(
      CALCULATION_FAMILIES,
      (family) => [this.#arena.precompressed(family), family === CLOCK_FAMILY ? clock : text.kept[family]],
      hidden,
    );
  }

  #unsettledTextFor(ids: readonly string[], entries: readonly (CalculationEntry | undefined)[], nowSeconds: number): UnsettledText {
    const last = this.#unsettledText;
    if (sameList(last.ids, ids) && sameList(last.entries, entries)) return last;
    const clocked = ids.map((id, i) => clockedSubjectOf(id, entries[i], nowSeconds));
    const subjects = clocked.map(({ subject }) => subject);
    const lines = subjects.map(renderCalculation);
    const kept = CALCULATION_FAMILIES.map((_, family) => {
      if (family === CLOCK_FAMILY) return undefined;
      const text = lines.map((of) => of[family] ?? "").join("");
      return text === "" ? undefined : keptText(Buffer.from(text, "utf8"));
    });
    const clockHeads = subjects.map((subject) => (clockFamily?.heads(subject) ?? []).map((head) => Buffer.from(head, "utf8")));
    this.#unsettledText = { ids, entries, kept, clocked, clockHeads, clockPlan: planLines(clockHeads.flat()) };
    return this.#unsettledText;
  }
}
