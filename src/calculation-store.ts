import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { AthenaApi } from "./athena-client.js";
import type { ApiError } from "./athena-errors.js";
import { isFinished, isSettled, type Calculation } from "./calculation.js";
import { CALCULATION_FAMILIES, FAMILY, renderCalculation, renderUp, type CalculationLines } from "./calculation-metrics.js";
import { renderFamilies } from "./exposition.js";
import type { FinishedCounters } from "./finished-counters.js";
import type { SelfMetrics } from "./self-metrics.js";

/** What the exporter knows of one calculation execution. */
export interface CalculationEntry {
  /** The last good answer; kept through later failures. */
  readonly calculation: Calculation | undefined;
  readonly workgroup: string | undefined;
  /** Set while the last refresh failed. */
  readonly error: ApiError | undefined;
  /** Exposition lines of a settled calculation, rendered once. */
  readonly lines: CalculationLines | undefined;
}

export interface StoreOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  /** Milliseconds clock, for tests. */
  readonly now?: () => number;
}

const COUNTED_FINISHED = 1;
const COUNTED_DPU = 2;

/**
 * The calculations the exporter watches, refreshed through an LRU cache:
 * settled calculations never expire, others expire after the TTL, and
 * concurrent refreshes of one calculation share one request (lru-cache's
 * fetch keeps one promise in flight per key).
 */
export class CalculationStore {
  readonly #entries: LRUCache<string, CalculationEntry>;
  readonly #workgroups: LRUCache<string, string, AbortSignal>;
  /** IDs already added to the finished counters; outlives evictions from #entries. */
  readonly #counted: LRUCache<string, number>;
  readonly #now: () => number;

  constructor(
    private readonly api: AthenaApi,
    private readonly counters: FinishedCounters,
    private readonly metrics: SelfMetrics,
    private readonly options: StoreOptions,
  ) {
    this.#now = options.now ?? Date.now;
    this.#entries = new LRUCache<string, CalculationEntry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      perf: { now: this.#now },
      // lru-cache reuses one reading of the clock for 1 ms of real time; a
      // clock that tests move by hand must be read every time.
      ...(options.now === undefined ? {} : { ttlResolution: 0 }),
      fetchMethod: (id, stale, { signal, options: setOptions }) => this.#refresh(id, stale, signal, setOptions),
    });
    // A session's workgroup never changes.
    this.#workgroups = new LRUCache<string, string, AbortSignal>({
      max: options.maxEntries,
      fetchMethod: async (sessionId, _stale, { context }) => {
        const answer = await this.api.getSessionWorkgroup(sessionId, context);
        if (!answer.ok) throw new WorkgroupLookupError(answer.error);
        return answer.value;
      },
    });
    this.#counted = new LRUCache<string, number>({ max: options.maxEntries });
  }

  peek(id: string): CalculationEntry | undefined {
    const value = this.#entries.peek(id, { allowStale: true });
    return value;
  }

  /**
   * Brings every ID up to date, or as far as it gets before `deadline`
   * aborts: what is still in flight then lands in the cache for the next
   * scrape, and this one serves the last known values.
   */
  async refresh(ids: readonly string[], deadline: AbortSignal): Promise<void> {
    const all = Promise.all(
      ids.map(async (id) => {
        const status: LRUCache.Status<string, CalculationEntry> = {};
        try {
          await this.#entries.fetch(id, { status });
        } catch {
          // The entry was evicted mid-flight; the next scrape asks again.
        }
        if (status.fetch === "hit" || status.fetch === "inflight") this.metrics.cacheHits.inc();
        else this.metrics.cacheMisses.inc();
      }),
    );
    if (deadline.aborted) return;
    await new Promise<void>((resolve) => {
      deadline.addEventListener("abort", () => resolve(), { once: true });
      all.then(() => resolve(), () => resolve());
    });
  }

  /** Exposition text of the per-calculation families for `ids`. */
  render(ids: readonly string[]): string {
    const nowSeconds = this.#now() / 1000;
    const bodies: string[][] = CALCULATION_FAMILIES.map(() => []);
    for (const id of ids) {
      const entry = this.peek(id);
      if (entry === undefined) continue;
      const { up, refreshError } = renderUp(id, entry.error);
      bodies[FAMILY.up]?.push(up);
      if (refreshError !== "") bodies[FAMILY.refreshError]?.push(refreshError);
      const { calculation, workgroup } = entry;
      if (calculation === undefined || workgroup === undefined) continue;
      const lines = entry.lines ?? renderCalculation(calculation, workgroup, nowSeconds);
      lines.forEach((text, family) => {
        if (text !== "" && family !== FAMILY.up && family !== FAMILY.refreshError) bodies[family]?.push(text);
      });
    }
    return renderFamilies(CALCULATION_FAMILIES, bodies);
  }

  async #refresh(
    id: string,
    stale: CalculationEntry | undefined,
    signal: AbortSignal,
    setOptions: LRUCache.FetcherOptions<string, CalculationEntry>["options"],
  ): Promise<CalculationEntry> {
    const answer = await this.api.getCalculation(id, signal);
    if (!answer.ok) return this.#failed(id, stale, answer.error);
    const calculation = answer.value;

    let workgroup = stale?.workgroup;
    if (workgroup === undefined) {
      try {
        workgroup = await this.#workgroups.fetch(calculation.sessionId, { context: signal });
      } catch (e) {
        const error: ApiError =
          e instanceof WorkgroupLookupError ? e.error : { code: "Other", message: `GetSession: ${String(e)}` };
        return this.#failed(id, stale, error);
      }
      if (workgroup === undefined) return this.#failed(id, stale, { code: "Other", message: "GetSession gave no answer" });
    }

    this.#count(calculation, workgroup);
    if (stale?.error !== undefined) {
      this.options.logger.info({ calculation_execution_id: id }, "calculation refresh recovered");
    }
    const settled = isSettled(calculation);
    // A settled calculation never changes again: it never goes stale.
    setOptions.ttl = settled ? 0 : this.options.ttlMs;
    return {
      calculation,
      workgroup,
      error: undefined,
      lines: settled ? renderCalculation(calculation, workgroup, 0) : undefined,
    };
  }

  #failed(id: string, stale: CalculationEntry | undefined, error: ApiError): CalculationEntry {
    if (stale?.error?.code !== error.code) {
      // Logged once per change, not once per scrape.
      this.options.logger.warn({ calculation_execution_id: id, error: error.code, reason: error.message }, "calculation refresh failed");
    }
    return {
      calculation: stale?.calculation,
      workgroup: stale?.workgroup,
      error,
      lines: stale?.lines,
    };
  }

  /** Adds a calculation to the aggregates the first time it is seen finished, and never again. */
  #count(calculation: Calculation, workgroup: string): void {
    this.counters.declare(workgroup);
    if (!isFinished(calculation.state)) return;
    const done = this.#counted.get(calculation.id) ?? 0;
    let now = done;
    if ((done & COUNTED_FINISHED) === 0) {
      this.counters.addFinished(workgroup, calculation.state);
      now |= COUNTED_FINISHED;
    }
    if ((done & COUNTED_DPU) === 0 && calculation.dpuExecutionSeconds !== undefined) {
      this.counters.addDpuSeconds(workgroup, calculation.dpuExecutionSeconds);
      now |= COUNTED_DPU;
    }
    if (now !== done) this.#counted.set(calculation.id, now);
  }
}

class WorkgroupLookupError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}
