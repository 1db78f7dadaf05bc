import { isFinished, type CalculationState } from "../athena/calculation.js";
import type { WorkGroupSummary } from "../athena/session.js";
import type { Known, KnownSession, Listing } from "./list-once.js";

interface KnownCalculation {
  readonly sessionId: string;
  readonly state: CalculationState;
  readonly workgroup: string;
  /** Unix seconds. */
  readonly submittedAt: number | undefined;
  /** Unix seconds. */
  readonly completedAt: number | undefined;
}

interface Remembered extends KnownSession {
  /** Unix seconds when discovery first saw it ended; its series go a retention later. */
  readonly endedSeenAt: number | undefined;
}

/** What discovery found, for the target to apply. */
export interface Discovered {
  /** Calculations found and within their retention, newest first: unfinished ones, then by completion. */
  readonly ids: readonly string[];
  /** Calculations whose listed state changed since the run before, with that state. */
  readonly changed: ReadonlyMap<string, CalculationState>;
  /** Sessions to watch: active ones, and ended ones within the retention. */
  readonly sessions: readonly string[];
  /** Sessions first seen ended in this run: their final state, end time and DPU total are to be fetched. */
  readonly ended: readonly string[];
  /** The workgroup of every session in `sessions`. */
  readonly sessionWorkgroups: ReadonlyMap<string, string>;
  /** The workgroups read, with their engines. */
  readonly workgroups: readonly WorkGroupSummary[];
}

/** What decides what memory keeps. */
export interface Retention {
  readonly workgroups: "all" | readonly string[];
  readonly retentionSeconds: number;
}

/**
 * What discovery knows between runs: the sessions and calculations the
 * listings showed, how far each workgroup was listed, and the workgroups.
 * It takes a run's listing and says what the target should track; it
 * forgets what is past its retention, so it stays bounded.
 */
export class DiscoveryMemory {
  readonly #sessions = new Map<string, Remembered>();
  readonly #calculations = new Map<string, KnownCalculation>();
  readonly #listedSince = new Map<string, number>();
  #workgroups: readonly WorkGroupSummary[] = [];

  /** What a run starts from. */
  known(): Known {
    return { sessions: this.#sessions, listedSince: this.#listedSince, workgroups: this.#workgroups };
  }

  /** Takes one run's listing, begun at `startedAt` (Unix seconds), and says what is to be tracked now. */
  apply(listing: Listing, startedAt: number, retention: Retention): Discovered {
    if (listing.workgroups !== undefined) this.#workgroups = listing.workgroups;
    for (const workgroup of listing.listedWorkgroups) this.#listedSince.set(workgroup, startedAt);
    const ended: string[] = [];
    for (const seen of listing.sessions) {
      const before = this.#sessions.get(seen.id);
      const endedNow = seen.ended && before?.ended !== true;
      if (endedNow) ended.push(seen.id);
      this.#sessions.set(seen.id, {
        workgroup: seen.workgroup,
        calculations: seen.calculations,
        ended: seen.ended || before?.ended === true,
        endedSeenAt: before?.endedSeenAt ?? (seen.ended ? startedAt : undefined),
        settledThrough: before?.settledThrough,
      });
    }
    const changed = new Map<string, CalculationState>();
    const cutoff = startedAt - retention.retentionSeconds;
    for (const calculation of listing.calculations) {
      this.#settle(calculation.sessionId, calculation);
      if (isFinished(calculation.state) && calculation.completedAt !== undefined && calculation.completedAt < cutoff) continue;
      const known = this.#calculations.get(calculation.id);
      if (known?.state === calculation.state) continue;
      const { id, sessionId, state, workgroup, submittedAt, completedAt } = calculation;
      this.#calculations.set(id, { sessionId, state, workgroup, submittedAt, completedAt });
      if (known !== undefined) changed.set(id, state);
    }
    this.#prune(startedAt, retention);
    return this.#found(changed, ended);
  }

  /** Takes new settings: what belongs to workgroups no longer discovered goes, the rest stays. */
  reconfigure(nowSeconds: number, retention: Retention): Discovered {
    this.#prune(nowSeconds, retention);
    return this.#found(new Map(), []);
  }

  /** Moves a session's mark to the newest calculation listed finished, so later listings stop there. */
  #settle(sessionId: string, calculation: { state: CalculationState; submittedAt: number | undefined }): void {
    if (!isFinished(calculation.state) || calculation.submittedAt === undefined) return;
    const session = this.#sessions.get(sessionId);
    if (session === undefined || (session.settledThrough ?? -Infinity) >= calculation.submittedAt) return;
    this.#sessions.set(sessionId, { ...session, settledThrough: calculation.submittedAt });
  }

  /**
   * Drops calculations past their retention, sessions that ended longer
   * ago than the retention, and what belongs to workgroups no longer
   * discovered (a run that began before a reload may still list them).
   */
  #prune(nowSeconds: number, retention: Retention): void {
    const wanted = retention.workgroups === "all" ? undefined : new Set(retention.workgroups);
    const cutoff = nowSeconds - retention.retentionSeconds;
    const gone = (workgroup: string): boolean => wanted !== undefined && !wanted.has(workgroup);
    for (const [id, known] of this.#calculations) {
      const expired = isFinished(known.state) && known.completedAt !== undefined && known.completedAt < cutoff;
      if (expired || gone(known.workgroup) || !this.#sessions.has(known.sessionId)) this.#calculations.delete(id);
    }
    for (const [id, known] of this.#sessions) {
      const expired = known.endedSeenAt !== undefined && known.endedSeenAt < cutoff;
      if (expired || gone(known.workgroup)) this.#sessions.delete(id);
    }
    for (const workgroup of this.#listedSince.keys()) if (gone(workgroup)) this.#listedSince.delete(workgroup);
    if (wanted !== undefined) this.#workgroups = this.#workgroups.filter((w) => wanted.has(w.name));
  }

  #found(changed: ReadonlyMap<string, CalculationState>, ended: readonly string[]): Discovered {
    return {
      ids: this.#sortedIds(),
      changed,
      sessions: [...this.#sessions.keys()],
      ended,
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
