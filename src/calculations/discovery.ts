import type { Logger } from "pino";
import type { AthenaApi } from "../athena/client.js";
import { isFinished, isSessionClosed, type CalculationState } from "./calculation.js";
import type { DiscoveryConfig } from "../config/config.js";
import type { TargetMetrics } from "../self-metrics.js";

interface Known {
  readonly state: CalculationState;
  readonly workgroup: string;
  /** Unix seconds. */
  readonly submittedAt: number | undefined;
  /** Unix seconds. */
  readonly completedAt: number | undefined;
}

/** What one discovery run found, for the exporter to apply. */
export interface Discovered {
  /** Calculations found and within their retention, newest first: unfinished ones, then by completion. */
  readonly ids: readonly string[];
  /** Calculations whose listed state changed since the run before, with that state. */
  readonly changed: ReadonlyMap<string, CalculationState>;
  /** The workgroup of every session listed. */
  readonly sessionWorkgroups: ReadonlyMap<string, string>;
}

// Spark workgroups run "PySpark engine version N"; SQL ones "Athena engine version N".
const SPARK_ENGINE = /spark/i;

/**
 * Finds calculations by listing workgroups, their sessions and the sessions'
 * calculations, on an interval of its own so a scrape never waits for it.
 * Each run hands what it found to `onDiscovered`; it holds no calculation
 * data, only what the listings said.
 */
export class Discoverer {
  readonly #known = new Map<string, Known>();
  /** Sessions listed once after they closed: their calculations are all known. */
  readonly #closedSessions = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly api: AthenaApi,
    private config: DiscoveryConfig,
    private readonly metrics: TargetMetrics,
    private readonly logger: Logger,
    private readonly onDiscovered: (found: Discovered) => void,
    /** Whether this replica's shard lists a session's calculations. */
    private readonly ownsSession: (sessionId: string) => boolean = () => true,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  /**
   * Takes a new discovery configuration without forgetting what was found:
   * calculations of workgroups still discovered stay tracked (with their
   * cache) through a reload; those of workgroups no longer listed go.
   */
  reconfigure(next: DiscoveryConfig): void {
    const previous = this.config;
    this.config = next;
    this.#prune(this.now() / 1000);
    this.onDiscovered({ ids: this.#sortedIds(), changed: new Map(), sessionWorkgroups: new Map() });
    const listsMore =
      next.workgroups === "all"
        ? previous.workgroups !== "all"
        : next.workgroups.some((w) => previous.workgroups === "all" || !previous.workgroups.includes(w));
    if (this.#running === undefined && (listsMore || next.intervalMs !== previous.intervalMs))
      this.#schedule(listsMore ? 0 : next.intervalMs);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce().finally(() => {
        this.#running = undefined;
        if (!this.#abort.signal.aborted) this.#schedule(this.config.intervalMs);
      });
    }, delayMs);
  }

  /** One full listing; failures are counted and logged, and what was known stays. */
  async runOnce(): Promise<void> {
    const signal = this.#abort.signal;
    const stop = this.metrics.discoveryDuration.startTimer();
    const nowSeconds = this.now() / 1000;
    const changed = new Map<string, CalculationState>();
    const sessionWorkgroups = new Map<string, string>();
    let failed = false;
    const workgroups = await this.#workgroups(signal);
    if (workgroups === undefined) failed = true;
    for (const workgroup of workgroups ?? []) {
      if (signal.aborted) break;
      const sessions = await this.api.listSessions(workgroup, signal);
      if (!sessions.ok) {
        if (sessions.error.aborted) break;
        failed = true;
        this.logger.warn({ workgroup, error: sessions.error.code, reason: sessions.error.message }, "discovery: listing sessions failed");
        continue;
      }
      for (const session of sessions.value) {
        if (session.endedAt !== undefined && session.endedAt < nowSeconds - this.config.lookbackMs / 1000) continue;
        if (this.#closedSessions.has(session.id) || !this.ownsSession(session.id)) continue;
        sessionWorkgroups.set(session.id, session.workgroup);
        const calculations = await this.api.listCalculations(session.id, signal);
        if (!calculations.ok) {
          if (calculations.error.aborted) break;
          failed = true;
          this.logger.warn({ session_id: session.id, error: calculations.error.code }, "discovery: listing calculations failed");
          continue;
        }
        for (const calc of calculations.value) {
          const known = { state: calc.state, workgroup, submittedAt: calc.submittedAt, completedAt: calc.completedAt };
          if (this.#see(calc.id, known, nowSeconds)) changed.set(calc.id, calc.state);
        }
        if (isSessionClosed(session.state)) this.#closedSessions.set(session.id, session.endedAt ?? nowSeconds);
      }
    }
    // Work cut short by stop() is neither a failure nor a result.
    if (signal.aborted) return;
    this.#prune(nowSeconds);
    const ids = this.#sortedIds();
    this.metrics.discoveredCalculations.set(ids.length);
    if (failed) this.metrics.discoveryFailures.inc();
    else this.metrics.discoveryLastSuccess.set(nowSeconds);
    stop();
    this.onDiscovered({ ids, changed, sessionWorkgroups });
  }

  async #workgroups(signal: AbortSignal): Promise<readonly string[] | undefined> {
    if (this.config.workgroups !== "all") return this.config.workgroups;
    const listed = await this.api.listWorkGroups(signal);
    if (!listed.ok) {
      if (!listed.error.aborted)
        this.logger.warn({ error: listed.error.code, reason: listed.error.message }, "discovery: listing workgroups failed");
      return undefined;
    }
    return listed.value.filter((w) => w.enabled && SPARK_ENGINE.test(w.engine)).map((w) => w.name);
  }

  /** Records a listed calculation; true when its state changed since it was last listed. */
  #see(id: string, seen: Known, nowSeconds: number): boolean {
    const retentionSeconds = this.config.retentionMs / 1000;
    if (isFinished(seen.state) && seen.completedAt !== undefined && seen.completedAt < nowSeconds - retentionSeconds) return false;
    const known = this.#known.get(id);
    if (known !== undefined && known.state === seen.state) return false;
    this.#known.set(id, seen);
    return known !== undefined;
  }

  /**
   * Drops calculations past their retention or of workgroups no longer
   * discovered (a run that began before a reload may still list them), and
   * closed sessions past the lookback.
   */
  #prune(nowSeconds: number): void {
    if (this.config.workgroups !== "all") {
      const kept = new Set(this.config.workgroups);
      for (const [id, known] of this.#known) if (!kept.has(known.workgroup)) this.#known.delete(id);
    }
    const cutoff = nowSeconds - this.config.retentionMs / 1000;
    for (const [id, known] of this.#known) {
      if (isFinished(known.state) && known.completedAt !== undefined && known.completedAt < cutoff) this.#known.delete(id);
    }
    const lookbackCutoff = nowSeconds - this.config.lookbackMs / 1000;
    for (const [id, endedAt] of this.#closedSessions) {
      if (endedAt < lookbackCutoff) this.#closedSessions.delete(id);
    }
  }

  /** Newest first, so that when more are found than the cache holds, the newest are kept. */
  #sortedIds(): string[] {
    const descending = (a: number | undefined, b: number | undefined): number => {
      const x = a ?? Infinity;
      const y = b ?? Infinity;
      return x === y ? 0 : x < y ? 1 : -1;
    };
    return [...this.#known.entries()]
      .sort(([, a], [, b]) => descending(a.completedAt, b.completedAt) || descending(a.submittedAt, b.submittedAt))
      .map(([id]) => id);
  }
}
