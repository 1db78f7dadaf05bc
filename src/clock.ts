/** Milliseconds since the epoch: the system's, or one a test moves by hand. */
export interface Clock {
  readonly now: () => number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };
