import type { Logger } from "pino";
import type { AthenaApi } from "./athena-client.js";
import { isFinished, isSessionClosed, type CalculationState } from "./calculation.js";
import type { CalculationStore } from "./calculation-store.js";
import type { DiscoveryConfig } from "./config.js";
import type { SelfMetrics } from "./self-metrics.js";

interface Known {
  readonly state: CalculationState;
  /** Unix seconds. */
  readonly completedAt: number | undefined;
}

// Spark workgroups run "PySpark engine version N"; SQL ones "Athena engine version N".
const SPARK_ENGINE = /spark/i;

/**
 * Finds calculations by listing workgroups, their sessions and the sessions'
 * calculations, on an interval of its own so a scrape never waits for it.
 * List summaries carry the state: a calculation whose listed state differs
 * from what the store holds is expired there, so the next scrape fetches it
 * (with statistics) without waiting for the TTL.
 */
export class Discoverer {
  readonly #known = new Map<string, Known>();
  /** Sessions listed once after they closed: their calculations are all known. */
  readonly #closedSessions = new Map<string, number>();
  #ids: readonly string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly api: AthenaApi,
    private readonly store: CalculationStore,
    private readonly config: DiscoveryConfig,
    private readonly metrics: SelfMetrics,
    private readonly logger: Logger,
    /** Whether this replica's shard lists a session's calculations. */
    private readonly ownsSession: (sessionId: string) => boolean = () => true,
    private readonly now: () => number = Date.now,
  ) {}

  /** The calculations found, less those finished longer ago than the retention. */
  ids(): readonly string[] {
    return this.#ids;
  }

  start(): void {
    const tick = (): void => {
      this.#running = this.runOnce().finally(() => {
        this.#running = undefined;
        if (!this.#abort.signal.aborted) this.#timer = setTimeout(tick, this.config.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One full listing; failures are counted and logged, and what was known stays. */
  async runOnce(): Promise<void> {
    const signal = this.#abort.signal;
    const stop = this.metrics.discoveryDuration.startTimer();
    const nowSeconds = this.now() / 1000;
    let failed = false;
    const workgroups = await this.#workgroups(signal);
    if (workgroups === undefined) failed = true;
    for (const workgroup of workgroups ?? []) {
      if (signal.aborted) break;
      const sessions = await this.api.listSessions(workgroup, signal);
      if (!sessions.ok) {
        failed = true;
        this.logger.warn({ workgroup, error: sessions.error.code, reason: sessions.error.message }, "discovery: listing sessions failed");
        continue;
      }
      for (const session of sessions.value) {
        if (session.endedAt !== undefined && session.endedAt < nowSeconds - this.config.lookbackMs / 1000) continue;
        if (this.#closedSessions.has(session.id) || !this.ownsSession(session.id)) continue;
        this.store.knowWorkgroup(session.id, session.workgroup);
        const calculations = await this.api.listCalculations(session.id, signal);
        if (!calculations.ok) {
          failed = true;
          this.logger.warn({ session_id: session.id, error: calculations.error.code }, "discovery: listing calculations failed");
          continue;
        }
        for (const calc of calculations.value) this.#see(calc.id, calc.state, calc.completedAt, nowSeconds);
        if (isSessionClosed(session.state)) this.#closedSessions.set(session.id, session.endedAt ?? nowSeconds);
      }
    }
    this.#prune(nowSeconds);
    this.metrics.discoveredCalculations.set(this.#ids.length);
    if (failed) this.metrics.discoveryFailures.inc();
    else this.metrics.discoveryLastSuccess.set(nowSeconds);
    stop();
  }

  async #workgroups(signal: AbortSignal): Promise<readonly string[] | undefined> {
    if (this.config.workgroups !== "all") return this.config.workgroups;
    const listed = await this.api.listWorkGroups(signal);
    if (!listed.ok) {
      this.logger.warn({ error: listed.error.code, reason: listed.error.message }, "discovery: listing workgroups failed");
      return undefined;
    }
    return listed.value.filter((w) => w.enabled && SPARK_ENGINE.test(w.engine)).map((w) => w.name);
  }

  #see(id: string, state: CalculationState, completedAt: number | undefined, nowSeconds: number): void {
    const retentionSeconds = this.config.retentionMs / 1000;
    if (isFinished(state) && completedAt !== undefined && completedAt < nowSeconds - retentionSeconds) return;
    const known = this.#known.get(id);
    if (known === undefined) {
      this.#known.set(id, { state, completedAt });
      return;
    }
    if (known.state !== state) {
      this.#known.set(id, { state, completedAt });
      const held = this.store.peek(id);
      if (held?.state !== undefined && held.state !== state) this.store.expire(id);
    }
  }

  /** Drops calculations past their retention, and closed sessions past the lookback. */
  #prune(nowSeconds: number): void {
    const cutoff = nowSeconds - this.config.retentionMs / 1000;
    for (const [id, known] of this.#known) {
      if (isFinished(known.state) && known.completedAt !== undefined && known.completedAt < cutoff) {
        this.#known.delete(id);
        this.store.forget(id);
      }
    }
    const lookbackCutoff = nowSeconds - this.config.lookbackMs / 1000;
    for (const [id, endedAt] of this.#closedSessions) {
      if (endedAt < lookbackCutoff) this.#closedSessions.delete(id);
    }
    this.#ids = [...this.#known.keys()];
  }
}
