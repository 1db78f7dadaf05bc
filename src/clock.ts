/** Milliseconds since the epoch, and whether a test moves it by hand. */
export interface Clock {
  readonly now: () => number;
  /** A hand-moved clock must be read on every TTL check (lru-cache otherwise reuses a reading for 1 ms). */
  readonly manual: boolean;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), manual: false };
