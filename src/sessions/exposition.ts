import type { BodyPart } from "../exposition/gzip-body.js";
import { MetricsStore } from "../exposition/metrics-store.js";
import { assembleFamilies } from "../exposition/text-format.js";
import { keptText, type Precompressed } from "../exposition/gzip-body.js";
import type { SessionEntry } from "./cache.js";
import { PRICE_FAMILIES } from "./dpu-counter.js";
import { renderWorkgroupTags, SESSION_FAMILIES, WORKGROUP_FAMILIES, WORKGROUP_TAGS_FAMILY, type SessionSubject } from "./metrics.js";
import type { WorkGroupSummary } from "../athena/session.js";

function subjectOf(id: string, entry: SessionEntry | undefined): SessionSubject {
  const { value, refreshedAt } = entry ?? {};
  return {
    id,
    error: entry === undefined ? "Pending" : entry.error?.code,
    known: value === undefined || refreshedAt === undefined ? undefined : { session: value, refreshedAt },
  };
}

/**
 * The text of the sessions, workgroups and the price, none of which moves
 * with the clock: a session's lines are rendered when its cache entry
 * changes, the workgroups' when discovery finds them, the price when the
 * configuration sets it.
 */
export class SessionExposition {
  readonly #sessions = new MetricsStore(SESSION_FAMILIES);
  #workgroups = new MetricsStore(WORKGROUP_FAMILIES);
  /** Its label names come from the configuration, so it is rendered whole (renderWorkgroupTags). */
  #tags: Precompressed | undefined;
  readonly #price = new MetricsStore(PRICE_FAMILIES);

  /** Renders what is known of a watched session: its last answer, or up 0 with why it failed, or "Pending". */
  show(id: string, entry: SessionEntry | undefined): void {
    this.#sessions.set(id, subjectOf(id, entry));
  }

  drop(id: string): void {
    this.#sessions.delete(id);
  }

  setWorkgroups(workgroups: readonly WorkGroupSummary[], tagKeys: readonly string[]): void {
    this.#workgroups = new MetricsStore(WORKGROUP_FAMILIES);
    for (const workgroup of workgroups) this.#workgroups.set(workgroup.name, workgroup);
    this.#tags = keptText(Buffer.from(renderWorkgroupTags(workgroups, tagKeys), "utf8"));
  }

  setPrice(price: number): void {
    this.#price.set("price", price);
  }

  /** The families in parts to write in order, those in `hidden` left out. */
  parts(hidden: ReadonlySet<string>): BodyPart[] {
    const tags = this.#tags;
    return [
      ...assembleFamilies(SESSION_FAMILIES, (family) => [this.#sessions.text(family, 0)], hidden),
      ...assembleFamilies(WORKGROUP_FAMILIES, (family) => [this.#workgroups.text(family, 0)], hidden),
      ...(tags === undefined || tags.bytes === 0 || hidden.has(WORKGROUP_TAGS_FAMILY.name) ? [] : [tags]),
      ...assembleFamilies(PRICE_FAMILIES, (family) => [this.#price.text(family, 0)], hidden),
    ];
  }
}
