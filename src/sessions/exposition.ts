import { sameList } from "../same-list.js";
import { keptText, type Precompressed } from "../exposition/gzip-body.js";
import type { FamilyGenerator } from "../exposition/family-generator.js";
import { renderFamilies } from "../exposition/text-format.js";
import type { SessionEntry } from "./cache.js";
import { PRICE_FAMILIES } from "./dpu-counter.js";
import { renderWorkgroupTags, SESSION_FAMILIES, WORKGROUP_FAMILIES, type SessionSubject } from "./metrics.js";
import type { WorkGroupSummary } from "../athena/session.js";

/** Everything the sessions' text is made from; the text stands while each of these is the same object or value. */
export interface SessionSources {
  readonly ids: readonly string[];
  readonly peek: (id: string) => SessionEntry | undefined;
  readonly workgroups: readonly WorkGroupSummary[];
  readonly tagKeys: readonly string[];
  readonly price: number;
  readonly hidden: ReadonlySet<string>;
}

interface Rendered {
  readonly ids: readonly string[];
  readonly entries: readonly (SessionEntry | undefined)[];
  readonly workgroups: readonly WorkGroupSummary[];
  readonly tagKeys: readonly string[];
  readonly price: number;
  readonly hidden: ReadonlySet<string>;
  readonly text: Precompressed;
}

function subjectOf(id: string, entry: SessionEntry | undefined): SessionSubject {
  const { session, refreshedAt } = entry ?? {};
  return {
    id,
    error: entry === undefined ? "Pending" : entry.error?.code,
    known: session === undefined || refreshedAt === undefined ? undefined : { session, refreshedAt },
  };
}

/** A family none of whose subjects has a sample is left out, header and all. */
const bodies = <T>(families: readonly FamilyGenerator<T>[], of: readonly T[]): string[][] =>
  families.map((family) => of.map((subject) => family.render(subject)).filter((text) => text !== ""));

/**
 * The text of the sessions, workgroups and the price. None of it moves with
 * the clock, so it is rendered again only when a session's cache entry is
 * replaced (a refresh) or what is watched changes, and a gzip scrape finds
 * it compressed already.
 */
export class SessionExposition {
  #last: Rendered | undefined;

  render(sources: SessionSources): Precompressed {
    const entries = sources.ids.map(sources.peek);
    const last = this.#last;
    if (
      last !== undefined &&
      sameList(last.ids, sources.ids) &&
      sameList(last.entries, entries) &&
      last.workgroups === sources.workgroups &&
      last.tagKeys === sources.tagKeys &&
      last.price === sources.price &&
      last.hidden === sources.hidden
    ) {
      return last.text;
    }
    const { hidden } = sources;
    const subjects = sources.ids.map((id, i) => subjectOf(id, entries[i]));
    const text =
      renderFamilies(SESSION_FAMILIES, bodies(SESSION_FAMILIES, subjects), hidden) +
      renderFamilies(WORKGROUP_FAMILIES, bodies(WORKGROUP_FAMILIES, sources.workgroups), hidden) +
      renderWorkgroupTags(sources.workgroups, sources.tagKeys, hidden) +
      renderFamilies(PRICE_FAMILIES, bodies(PRICE_FAMILIES, [sources.price]), hidden);
    this.#last = { ...sources, entries, text: keptText(Buffer.from(text, "utf8")) };
    return this.#last.text;
  }
}
