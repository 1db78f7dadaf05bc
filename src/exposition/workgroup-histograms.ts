import type { HistogramValues } from "./histogram-family.js";

interface Observations {
  /** Per bucket, the observations that fell in it (not yet cumulative). */
  readonly inBucket: number[];
  count: number;
  sum: number;
}

interface WorkgroupState<K extends string> {
  readonly values: Record<K, Observations>;
  readonly pending: Record<K, Observations>;
  exposed: boolean;
}

/**
 * Histograms per workgroup and key (a final state, say) whose series are
 * born at 0, for the reason WorkgroupCounters gives: a bucket series that
 * first appears at 1 has no earlier sample, so increase() would never see
 * the first observation of a new workgroup. What is observed before a
 * workgroup's first exposition waits for the next one.
 */
export class WorkgroupHistograms<K extends string> {
  readonly #byWorkgroup = new Map<string, WorkgroupState<K>>();
  #changed = true;

  /** `keys`: the histograms each workgroup has; `bounds`: the buckets' upper bounds, ascending (+Inf aside). */
  constructor(
    private readonly keys: readonly K[],
    private readonly bounds: readonly number[],
  ) {}

  /** Ensures a workgroup's histograms exist (at 0) from the next exposition on. */
  declare(workgroup: string): void {
    this.#state(workgroup);
  }

  observe(workgroup: string, key: K, value: number): void {
    const state = this.#state(workgroup);
    const into = (state.exposed ? state.values : state.pending)[key];
    // The first bucket whose bound is at least the value; past the last bound, only +Inf (the count) holds it.
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) into.inBucket[bucket] = (into.inBucket[bucket] ?? 0) + 1;
    into.count += 1;
    into.sum += value;
    if (state.exposed) this.#changed = true;
  }

  /** Whether the next expose() would give other values than the last: the owner re-renders only then. */
  changed(): boolean {
    return this.#changed;
  }

  /**
   * Every workgroup's histograms, sorted by workgroup, for the text a scrape
   * serves; then releases what waited for a first exposition. It changes the
   * state, so call it once per rendering.
   */
  expose(): [workgroup: string, histograms: Readonly<Record<K, HistogramValues>>][] {
    const snapshot = [...this.#byWorkgroup.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([workgroup, state]): [string, Readonly<Record<K, HistogramValues>>] => [
        workgroup,
        Object.fromEntries(this.keys.map((key) => [key, this.#cumulative(state.values[key])])) as Record<K, HistogramValues>, // every key, by construction
      ]);
    this.#changed = false;
    for (const state of this.#byWorkgroup.values()) {
      if (state.exposed) continue;
      state.exposed = true;
      for (const key of this.keys) {
        const from = state.pending[key];
        if (from.count === 0) continue;
        const to = state.values[key];
        from.inBucket.forEach((n, i) => (to.inBucket[i] = (to.inBucket[i] ?? 0) + n));
        to.count += from.count;
        to.sum += from.sum;
        this.#changed = true;
      }
    }
    return snapshot;
  }

  #cumulative(o: Observations): HistogramValues {
    let running = 0;
    // Athena counts in milliseconds: rounding there drops float noise from the sum.
    return { buckets: o.inBucket.map((n) => (running += n)), count: o.count, sum: Math.round(o.sum * 1000) / 1000 };
  }

  #state(workgroup: string): WorkgroupState<K> {
    let state = this.#byWorkgroup.get(workgroup);
    if (state === undefined) {
      state = { values: this.#empty(), pending: this.#empty(), exposed: false };
      this.#byWorkgroup.set(workgroup, state);
      this.#changed = true;
    }
    return state;
  }

  #empty(): Record<K, Observations> {
    return Object.fromEntries(this.keys.map((key) => [key, { inBucket: this.bounds.map(() => 0), count: 0, sum: 0 }])) as Record<
      K,
      Observations
    >; // every key, by construction
  }
}
