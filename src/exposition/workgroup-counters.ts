/**
 * Counters per workgroup whose series are born at 0. A counter series that
 * first appears at 1 has no earlier sample, so increase() and rate() never
 * see that first step: the first FAILED of a new workgroup would vanish. So
 * a workgroup's series are first exposed at 0, and what was added before
 * waits for the next exposition.
 */
export class WorkgroupCounters<K extends string> {
  readonly #byWorkgroup = new Map<string, { values: Record<K, number>; pending: Record<K, number>; exposed: boolean }>();

  /** `keys`: the series each workgroup has (a state, "dpu", …). */
  constructor(private readonly keys: readonly K[]) {}

  /** Ensures a workgroup's series exist (at 0) from the next exposition on. */
  declare(workgroup: string): void {
    this.#counts(workgroup);
  }

  add(workgroup: string, key: K, amount: number): void {
    const counts = this.#counts(workgroup);
    (counts.exposed ? counts.values : counts.pending)[key] += amount;
  }

  /**
   * Every workgroup's values, sorted by workgroup, for the text a scrape
   * serves; then releases what waited for a first exposition. It changes the
   * counts, so call it once per scrape.
   */
  expose(): [workgroup: string, values: Readonly<Record<K, number>>][] {
    const snapshot = [...this.#byWorkgroup.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([workgroup, counts]): [string, Readonly<Record<K, number>>] => [workgroup, { ...counts.values }]);
    for (const counts of this.#byWorkgroup.values()) {
      if (counts.exposed) continue;
      counts.exposed = true;
      for (const key of this.keys) counts.values[key] += counts.pending[key];
    }
    return snapshot;
  }

  #counts(workgroup: string): { values: Record<K, number>; pending: Record<K, number>; exposed: boolean } {
    let counts = this.#byWorkgroup.get(workgroup);
    if (counts === undefined) {
      counts = { values: this.#zeroes(), pending: this.#zeroes(), exposed: false };
      this.#byWorkgroup.set(workgroup, counts);
    }
    return counts;
  }

  #zeroes(): Record<K, number> {
    return Object.fromEntries(this.keys.map((key) => [key, 0])) as Record<K, number>; // every key, by construction
  }
}
