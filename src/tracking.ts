import type { Discovered } from "./discovery/memory.js";
import { owns, type Shard } from "./shard.js";

/** What a target watches, worked out from its inputs by `track`. */
export interface Tracking {
  /** Calculations to refresh: those it shows, and listed ones fetched only to learn their session. */
  readonly ids: readonly string[];
  /** Calculations whose series this replica shows. */
  readonly shown: readonly string[];
  /** Sessions to refresh and show. */
  readonly sessions: readonly string[];
  /** Discovered calculations beyond what the cache holds, so not watched. */
  readonly leftOut: number;
}

export const NOTHING_TRACKED: Tracking = { ids: [], shown: [], sessions: [], leftOut: 0 };

/** What tracking is worked out from. */
export interface TrackingInputs {
  /** The configured calculation IDs. */
  readonly listed: readonly string[];
  /** What discovery found last; undefined when discovery is off. */
  readonly discovered: Discovered | undefined;
  /** The session of every calculation an answer has named it for. */
  readonly sessionOf: ReadonlyMap<string, string>;
  readonly shard: Shard;
  /** How many calculations the cache holds at most. */
  readonly capacity: number;
}

/**
 * Which calculations and sessions a replica watches. A session belongs to
 * the shard its ID hashes to, with its calculations, its DPU and its alerts,
 * so that summed across replicas every series appears once and every
 * counter equals the truth. Discovery lists only this shard's sessions. A
 * configured calculation is shown where its session belongs; until an
 * answer has named its session, every replica fetches it to learn that,
 * and the shard its own ID hashes to shows it (as pending, or failing).
 * Configured IDs come first, then discovered ones, newest first, as far as
 * the cache holds them.
 */
export function track(inputs: TrackingInputs): Tracking {
  const { shard, sessionOf } = inputs;
  const ids = new Set<string>();
  const shown: string[] = [];
  const sessions = new Set<string>(inputs.discovered?.sessions ?? []);
  for (const id of inputs.listed) {
    if (ids.has(id)) continue;
    const session = sessionOf.get(id);
    if (session !== undefined && !owns(shard, session)) continue;
    ids.add(id);
    if (session !== undefined || owns(shard, id)) shown.push(id);
  }
  let leftOut = 0;
  for (const id of inputs.discovered?.ids ?? []) {
    if (ids.has(id)) continue;
    if (ids.size >= inputs.capacity) {
      leftOut++;
      continue;
    }
    ids.add(id);
    shown.push(id);
  }
  for (const id of shown) {
    const session = sessionOf.get(id);
    if (session !== undefined) sessions.add(session);
  }
  return { ids: [...ids], shown, sessions: [...sessions], leftOut };
}
