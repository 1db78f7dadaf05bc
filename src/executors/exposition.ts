import { keptText, type Precompressed } from "../exposition/gzip-body.js";
import { renderFamilies } from "../exposition/text-format.js";
import { sameList } from "../same-list.js";
import type { ExecutorsEntry } from "./cache.js";
import { EXECUTOR_FAMILIES } from "./metrics.js";

interface Rendered {
  readonly entries: readonly (ExecutorsEntry | undefined)[];
  readonly hidden: ReadonlySet<string>;
  readonly text: Precompressed;
}

/**
 * The text of the watched sessions' executors. A listing replaces a
 * session's entry, so the text is rendered again only when an entry is
 * replaced or what is watched changes; a scrape in between sends it as it is.
 */
export class ExecutorExposition {
  #last: Rendered | undefined;

  render(entries: readonly (ExecutorsEntry | undefined)[], hidden: ReadonlySet<string>): Precompressed {
    const last = this.#last;
    if (last !== undefined && sameList(last.entries, entries) && last.hidden === hidden) return last.text;
    const known = entries.filter((e): e is ExecutorsEntry => e !== undefined);
    const bodies = EXECUTOR_FAMILIES.map((family) => known.map((entry) => family.render(entry)).filter((text) => text !== ""));
    this.#last = { entries, hidden, text: keptText(Buffer.from(renderFamilies(EXECUTOR_FAMILIES, bodies, hidden), "utf8")) };
    return this.#last.text;
  }
}
