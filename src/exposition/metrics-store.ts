/**
 * Render on change, iterate on scrape, as kube-state-metrics' MetricsStore
 * does: an item's lines are rendered once when what is known of it changes
 * and kept by its ID; a drop deletes them; a scrape walks what is kept.
 * Each family's text is joined and encoded at the first scrape after a
 * change, and its deflate piece made at the first gzip scrape after it.
 *
 * A live family (one whose value moves with the clock, such as an
 * unfinished calculation's duration) is not kept: it is rendered on each
 * scrape from the kept subjects, as of that scrape's clock.
 */
import type { FamilyGenerator } from "./family-generator.js";
import { keptText, type Precompressed } from "./gzip-body.js";

/** The family whose value moves with the clock, and the subject as of a scrape's clock. */
export interface LiveFamily<T> {
  readonly family: number;
  readonly at: (subject: T, nowSeconds: number) => T;
}

interface Item<T> {
  readonly subject: T;
  /** One string per family ("" for none; always "" for the live family). */
  readonly lines: readonly string[];
}

export class MetricsStore<T> {
  readonly #items = new Map<string, Item<T>>();
  /** Per family, the items' lines joined: kept until an item changes. */
  #joined: readonly (Precompressed | undefined)[] | undefined;

  constructor(
    readonly families: readonly FamilyGenerator<T>[],
    private readonly live?: LiveFamily<T>,
  ) {}

  /** Renders `subject`'s lines and keeps them as `id`'s, in place of any before. */
  set(id: string, subject: T): void {
    const live = this.live?.family;
    this.#items.set(id, { subject, lines: this.families.map((family, i) => (i === live ? "" : family.render(subject))) });
    this.#joined = undefined;
  }

  delete(id: string): void {
    if (this.#items.delete(id)) this.#joined = undefined;
  }

  has(id: string): boolean {
    return this.#items.has(id);
  }

  get size(): number {
    return this.#items.size;
  }

  /** Every item's lines of `family`, as of `nowSeconds` for the live family; undefined when none has any. */
  text(family: number, nowSeconds: number): Precompressed | Buffer | undefined {
    if (family === this.live?.family) {
      const generator = this.families[family];
      if (generator === undefined) return undefined;
      let out = "";
      for (const { subject } of this.#items.values()) out += generator.render(this.live.at(subject, nowSeconds));
      return out === "" ? undefined : Buffer.from(out, "utf8");
    }
    this.#joined ??= this.families.map((_, i) => {
      let out = "";
      for (const { lines } of this.#items.values()) out += lines[i] ?? "";
      return out === "" ? undefined : keptText(Buffer.from(out, "utf8"));
    });
    return this.#joined[family];
  }
}
