import type { Logger } from "pino";
import type { AthenaApi } from "./athena/client.js";
import type { ApiError } from "./athena/errors.js";
import { isFinished, type CalculationState } from "./calculations/calculation.js";
import { ok, type Result } from "./result.js";
import type { DiscoveryConfig } from "./config/config.js";
import type { TargetMetrics } from "./self-metrics.js";
import { engineOf, isSessionClosed, type SessionSummary, type WorkGroupSummary } from "./sessions/session.js";

interface KnownCalculation {
  readonly state: CalculationState;
  readonly workgroup: string;
  /** Unix seconds. */
  readonly submittedAt: number | undefined;
  /** Unix seconds. */
  readonly completedAt: number | undefined;
}

interface KnownSession {
  readonly workgroup: string;
  /** Whether its workgroup's engine has the calculation APIs. */
  readonly calculations: boolean;
  /** Unix seconds when it left the listing of active sessions; undefined while listed. */
  readonly leftAt: number | undefined;
}

/** What one discovery run found, for the target to apply. */
export interface Discovered {
  /** Calculations found and within their retention, newest first: unfinished ones, then by completion. */
  readonly ids: readonly string[];
  /** Calculations whose listed state changed since the run before, with that state. */
  readonly changed: ReadonlyMap<string, CalculationState>;
  /** Sessions to watch: those listed as active, and those that left the listing within the retention. */
  readonly sessions: readonly string[];
  /** Sessions that left the listing in this run: they ended, and their final state is to be fetched. */
  readonly ended: readonly string[];
  /** The workgroup of every session in `sessions`. */
  readonly sessionWorkgroups: ReadonlyMap<string, string>;
  /** The workgroups read, with their engines. */
  readonly workgroups: readonly WorkGroupSummary[];
}

/**
 * Finds sessions and calculations by listing workgroups, their active
 * sessions and the sessions' calculations, on an interval of its own so a
 * scrape never waits for it. Each workgroup's engine decides what is
 * listed: sessions and calculations on "PySpark engine version 3", sessions
 * only on "Apache Spark version 3.5" (no calculation APIs), nothing on SQL
 * engines. Each run hands what it found to `onDiscovered`; it holds no
 * resource data, only what the listings said.
 */
/** What one discovery run did. */
export interface DiscoveryRun {
  /** Unix seconds when it started. */
  readonly at: number;
  readonly durationSeconds: number;
  /** A list call failed: what was known before stays. */
  readonly failed: boolean;
  readonly calculations: number;
}

export class Discoverer {
  readonly #calculations = new Map<string, KnownCalculation>();
  readonly #sessions = new Map<string, KnownSession>();
  #workgroups: readonly WorkGroupSummary[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #abort = new AbortController();
  #lastRun: DiscoveryRun | undefined;
  /** Workgroups whose engine could not be read, logged once each. */
  readonly #unreadEngines = new Set<string>();
  /** The last error reading each workgroup's tags, logged once per change. */
  readonly #tagFailures = new Map<string, string>();
  /** Workgroups whose ended sessions have been listed once. */
  readonly #caughtUp = new Set<string>();

  constructor(
    private readonly api: AthenaApi,
    private config: DiscoveryConfig,
    private readonly metrics: TargetMetrics,
    private readonly logger: Logger,
    private readonly onDiscovered: (found: Discovered) => void,
    /** Whether this replica's shard lists a session and its calculations. */
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
   * what belongs to workgroups still discovered stays tracked (with its
   * cache) through a reload; what belongs to workgroups no longer listed goes.
   */
  reconfigure(next: DiscoveryConfig): void {
    const previous = this.config;
    this.config = next;
    this.#prune(this.now() / 1000);
    this.onDiscovered(this.#found(new Map(), []));
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
  /** The last finished run, for the status page; undefined before the first. */
  get lastRun(): DiscoveryRun | undefined {
    return this.#lastRun;
  }

  async runOnce(): Promise<void> {
    const signal = this.#abort.signal;
    const stop = this.metrics.discoveryDuration.startTimer();
    const nowSeconds = this.now() / 1000;
    const changed = new Map<string, CalculationState>();
    const ended: string[] = [];
    let failed = false;
    const read = await this.#readWorkgroups(signal);
    if (read === undefined) failed = true;
    const tagged = read === undefined ? undefined : await this.#withTags(read, signal);
    if (tagged?.failed === true) failed = true;
    const workgroups = tagged?.workgroups;
    if (workgroups !== undefined) this.#workgroups = workgroups;
    for (const workgroup of workgroups ?? []) {
      const engine = engineOf(workgroup.engine);
      if (!engine.sessions) continue;
      const listed = await this.#listSessions(workgroup.name, signal);
      if (!listed.ok) {
        if (listed.error.aborted) break;
        failed = true;
        this.logger.warn(
          { workgroup: workgroup.name, error: listed.error.code, reason: listed.error.message },
          "discovery: listing sessions failed",
        );
        continue;
      }
      const active = new Set<string>();
      for (const session of listed.value) {
        if (session.endedAt !== undefined && session.endedAt < nowSeconds - this.config.lookbackMs / 1000) continue;
        if (!this.ownsSession(session.id)) continue;
        const known = this.#sessions.get(session.id);
        if (known?.leftAt !== undefined) continue; // ended and listed once more already
        if (isSessionClosed(session.state)) {
          // First seen ended (a listing that shows ended sessions): its calculations once, then never again.
          if (known === undefined) {
            this.#sessions.set(session.id, { workgroup: workgroup.name, calculations: engine.calculations, leftAt: nowSeconds });
            ended.push(session.id);
            if (engine.calculations && !(await this.#listCalculations(session.id, workgroup.name, changed, nowSeconds, signal)))
              failed = true;
          }
          continue;
        }
        active.add(session.id);
        this.#sessions.set(session.id, { workgroup: workgroup.name, calculations: engine.calculations, leftAt: undefined });
        if (engine.calculations && !(await this.#listCalculations(session.id, workgroup.name, changed, nowSeconds, signal))) failed = true;
      }
      // Athena lists active sessions only: one that is no longer listed ended. Its
      // calculations are listed once more, so that none that finished is missed.
      for (const [id, known] of this.#sessions) {
        if (known.workgroup !== workgroup.name || known.leftAt !== undefined || active.has(id)) continue;
        this.#sessions.set(id, { ...known, leftAt: nowSeconds });
        ended.push(id);
        if (known.calculations && !(await this.#listCalculations(id, workgroup.name, changed, nowSeconds, signal))) failed = true;
      }
    }
    // Work cut short by stop() is neither a failure nor a result.
    if (signal.aborted) return;
    this.#prune(nowSeconds);
    const found = this.#found(changed, ended);
    this.metrics.discoveredCalculations.set(found.ids.length);
    if (failed) this.metrics.discoveryFailures.inc();
    else this.metrics.discoveryLastSuccess.set(nowSeconds);
    this.#lastRun = { at: nowSeconds, durationSeconds: stop(), failed, calculations: found.ids.length };
    this.onDiscovered(found);
  }

  /**
   * A workgroup's sessions: the active ones Athena lists by default, those
   * DEGRADED (alive and billed), which it lists only when asked for by
   * state, and on the first run the ended ones within the lookback.
   */
  async #listSessions(workgroup: string, signal: AbortSignal): Promise<Result<SessionSummary[], ApiError>> {
    const all: SessionSummary[] = [];
    // Ended sessions are listed once per workgroup, to catch up on those that ended before
    // discovery began (within the lookback); later endings show as sessions leaving the listing.
    const caughtUp = this.#caughtUp.has(workgroup);
    const states = caughtUp ? ([undefined, "DEGRADED"] as const) : ([undefined, "DEGRADED", "FAILED", "TERMINATED"] as const);
    for (const state of states) {
      const listed = await this.api.listSessions(workgroup, signal, state);
      if (!listed.ok) return listed;
      all.push(...listed.value);
    }
    this.#caughtUp.add(workgroup);
    return ok(all);
  }

  /** Lists one session's calculations into what is known; false when the listing failed. */
  async #listCalculations(
    sessionId: string,
    workgroup: string,
    changed: Map<string, CalculationState>,
    nowSeconds: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const calculations = await this.api.listCalculations(sessionId, signal);
    if (!calculations.ok) {
      if (calculations.error.aborted) return true;
      this.logger.warn({ session_id: sessionId, error: calculations.error.code }, "discovery: listing calculations failed");
      return false;
    }
    for (const calc of calculations.value) {
      const seen = { state: calc.state, workgroup, submittedAt: calc.submittedAt, completedAt: calc.completedAt };
      if (this.#see(calc.id, seen, nowSeconds)) changed.set(calc.id, calc.state);
    }
    return true;
  }

  /** The workgroups to list, with their engines: the configured names (GetWorkGroup), or every enabled one. */
  async #readWorkgroups(signal: AbortSignal): Promise<readonly WorkGroupSummary[] | undefined> {
    if (this.config.workgroups !== "all") {
      const read: WorkGroupSummary[] = [];
      for (const name of this.config.workgroups) {
        const answer = await this.api.getWorkGroup(name, signal);
        if (answer.ok) {
          read.push(answer.value);
          continue;
        }
        if (answer.error.aborted) return undefined;
        // Without its engine (no athena:GetWorkGroup, say), a named workgroup is taken for a PySpark one, as before engines were read.
        if (!this.#unreadEngines.has(name)) {
          this.#unreadEngines.add(name);
          this.logger.warn(
            { workgroup: name, error: answer.error.code, reason: answer.error.message },
            "discovery: reading the workgroup's engine failed; assuming PySpark engine version 3",
          );
        }
        read.push({ name, enabled: true, state: "", engine: "PySpark engine version 3" });
      }
      return read;
    }
    const listed = await this.api.listWorkGroups(signal);
    if (!listed.ok) {
      if (!listed.error.aborted)
        this.logger.warn({ error: listed.error.code, reason: listed.error.message }, "discovery: listing workgroups failed");
      return undefined;
    }
    return listed.value.filter((w) => w.enabled && engineOf(w.engine).sessions);
  }

  /**
   * The workgroups with the configured tags' values. A workgroup whose tags
   * cannot be read keeps those read before, and the failure is logged once
   * per workgroup and error.
   */
  async #withTags(
    workgroups: readonly WorkGroupSummary[],
    signal: AbortSignal,
  ): Promise<{ workgroups: readonly WorkGroupSummary[]; failed: boolean }> {
    const keys = this.config.workgroupTags;
    if (keys.length === 0) return { workgroups, failed: false };
    let failed = false;
    const before = new Map(this.#workgroups.map((w) => [w.name, w.tags]));
    const tagged: WorkGroupSummary[] = [];
    for (const workgroup of workgroups) {
      const listed = await this.api.listWorkGroupTags(workgroup.name, signal);
      if (listed.ok) {
        tagged.push({ ...workgroup, tags: new Map(keys.map((key) => [key, listed.value.get(key) ?? ""])) });
        this.#tagFailures.delete(workgroup.name);
        continue;
      }
      const previous = before.get(workgroup.name);
      tagged.push(previous === undefined ? workgroup : { ...workgroup, tags: previous });
      if (!listed.error.aborted) failed = true;
      if (!listed.error.aborted && this.#tagFailures.get(workgroup.name) !== listed.error.code) {
        this.#tagFailures.set(workgroup.name, listed.error.code);
        this.logger.warn(
          { workgroup: workgroup.name, error: listed.error.code, reason: listed.error.message },
          "discovery: reading the workgroup's tags failed",
        );
      }
    }
    return { workgroups: tagged, failed };
  }

  /** Records a listed calculation; true when its state changed since it was last listed. */
  #see(id: string, seen: KnownCalculation, nowSeconds: number): boolean {
    const retentionSeconds = this.config.retentionMs / 1000;
    if (isFinished(seen.state) && seen.completedAt !== undefined && seen.completedAt < nowSeconds - retentionSeconds) return false;
    const known = this.#calculations.get(id);
    if (known !== undefined && known.state === seen.state) return false;
    this.#calculations.set(id, seen);
    return known !== undefined;
  }

  /**
   * Drops calculations past their retention, sessions that ended longer
   * ago than the retention, and what belongs to workgroups no longer
   * discovered (a run that began before a reload may still list them).
   */
  #prune(nowSeconds: number): void {
    const wanted = this.config.workgroups === "all" ? undefined : new Set(this.config.workgroups);
    const cutoff = nowSeconds - this.config.retentionMs / 1000;
    for (const [id, known] of this.#calculations) {
      const expired = isFinished(known.state) && known.completedAt !== undefined && known.completedAt < cutoff;
      if (expired || (wanted !== undefined && !wanted.has(known.workgroup))) this.#calculations.delete(id);
    }
    for (const [id, known] of this.#sessions) {
      const expired = known.leftAt !== undefined && known.leftAt < cutoff;
      if (expired || (wanted !== undefined && !wanted.has(known.workgroup))) this.#sessions.delete(id);
    }
    if (wanted !== undefined) this.#workgroups = this.#workgroups.filter((w) => wanted.has(w.name));
  }

  #found(changed: ReadonlyMap<string, CalculationState>, ended: readonly string[]): Discovered {
    return {
      ids: this.#sortedIds(),
      changed,
      sessions: [...this.#sessions.keys()],
      ended,
      // From what is known, not only this run's listing: it is pruned with the sessions, so it stays bounded.
      sessionWorkgroups: new Map([...this.#sessions].map(([id, known]) => [id, known.workgroup])),
      workgroups: this.#workgroups,
    };
  }

  /** Newest first, so that when more are found than the cache holds, the newest are kept. */
  #sortedIds(): string[] {
    const descending = (a: number | undefined, b: number | undefined): number => {
      const x = a ?? Infinity;
      const y = b ?? Infinity;
      return x === y ? 0 : x < y ? 1 : -1;
    };
    return [...this.#calculations.entries()]
      .sort(([, a], [, b]) => descending(a.completedAt, b.completedAt) || descending(a.submittedAt, b.submittedAt))
      .map(([id]) => id);
  }
}
