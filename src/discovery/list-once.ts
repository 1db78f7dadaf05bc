import type { AthenaApi } from "../athena/client.js";
import type { ApiError } from "../athena/errors.js";
import { isFinished, type CalculationSummary } from "../athena/calculation.js";
import { engineOf, isSessionClosed, isSessionEnded, type SessionSummary, type WorkGroupSummary } from "../athena/session.js";

/** What a listing needs to know of the settings; one run reads them once. */
export interface ListSettings {
  readonly workgroups: "all" | readonly string[];
  readonly workgroupTags: readonly string[];
  /** How far back the first listing of a workgroup looks for ended sessions. */
  readonly lookbackSeconds: number;
  /** Whether this replica's shard owns a session (and so its calculations). */
  readonly owns: (sessionId: string) => boolean;
  /** Unix seconds when the run began. */
  readonly nowSeconds: number;
}

/** What discovery holds of a session between runs. */
export interface KnownSession {
  readonly workgroup: string;
  /** Whether its workgroup's engine has the calculation APIs. */
  readonly calculations: boolean;
  /** Whether Athena has said it ended (TERMINATED or FAILED). */
  readonly ended: boolean;
  /**
   * Unix seconds of submission of the newest calculation listed finished
   * in an earlier run: a later listing stops at finished ones older than it.
   */
  readonly settledThrough: number | undefined;
}

/** What a run starts from: what earlier runs found, read only. */
export interface Known {
  readonly sessions: ReadonlyMap<string, KnownSession>;
  /** Per workgroup: Unix seconds when the last run that listed all its sessions began. */
  readonly listedSince: ReadonlyMap<string, number>;
  /** The workgroups read before, with their tags: kept when tags cannot be read. */
  readonly workgroups: readonly WorkGroupSummary[];
}

/** A session as this run saw it. */
export interface SeenSession {
  readonly id: string;
  readonly workgroup: string;
  readonly calculations: boolean;
  readonly ended: boolean;
}

/** A listed calculation with the workgroup of its session. */
export interface SeenCalculation extends CalculationSummary {
  readonly workgroup: string;
}

/** Something that went wrong in a run, with a bounded code and the words for the log. */
export interface Problem {
  /** What it concerns, for the log: a workgroup or session, and the operation. */
  readonly scope: string;
  readonly code: string;
  readonly reason: string;
  /** False for what the run could work around (a workgroup's engine taken for PySpark): logged, not counted. */
  readonly failed: boolean;
}

/** What one run found. Nothing in it retires anything the run did not see for itself. */
export interface Listing {
  /** The workgroups read, with their engines and tags; undefined when they could not be read. */
  readonly workgroups: readonly WorkGroupSummary[] | undefined;
  /** Workgroups whose sessions were all listed, so their watermark moves to this run's start. */
  readonly listedWorkgroups: readonly string[];
  /** The sessions this shard owns that the run saw, active or ended. */
  readonly sessions: readonly SeenSession[];
  readonly calculations: readonly SeenCalculation[];
  readonly problems: readonly Problem[];
  /** stop() cut the run short: it is neither a failure nor a result. */
  readonly aborted: boolean;
}

/** Athena's clock and ours differ a little: ended sessions are looked for this far before the last run began. */
const CLOCK_SLACK_SECONDS = 60;

/**
 * One discovery run, as blackbox_exporter's probe functions are shaped:
 * it takes the API, the settings, what is known and an abort signal, and
 * returns what it found. It changes nothing; the owner applies the result.
 *
 * Per Spark workgroup it lists the active sessions and the DEGRADED ones in
 * full, and the ended ones (TERMINATED, FAILED) newest first down to those
 * that started before the last run began (before the lookback on the first
 * run), so a session that started and ended between two runs is still
 * seen. A known session missing from every listing is asked about with
 * GetSession: only Athena's word ends it. Calculations are listed newest
 * first down to the first finished one older than what an earlier run saw
 * finished, so a session with a long history costs about one call a run.
 */
export async function listOnce(api: AthenaApi, settings: ListSettings, known: Known, signal: AbortSignal): Promise<Listing> {
  const run = new Run(api, settings, known, signal);
  await run.list();
  return run.result();
}

class Run {
  readonly #problems: Problem[] = [];
  readonly #sessions = new Map<string, SeenSession>();
  readonly #calculations: SeenCalculation[] = [];
  readonly #listedWorkgroups: string[] = [];
  #workgroups: readonly WorkGroupSummary[] | undefined;

  constructor(
    private readonly api: AthenaApi,
    private readonly settings: ListSettings,
    private readonly known: Known,
    private readonly signal: AbortSignal,
  ) {}

  result(): Listing {
    return {
      workgroups: this.#workgroups,
      listedWorkgroups: this.#listedWorkgroups,
      sessions: [...this.#sessions.values()],
      calculations: this.#calculations,
      problems: this.#problems,
      aborted: this.signal.aborted,
    };
  }

  async list(): Promise<void> {
    const read = await this.#readWorkgroups();
    if (read === undefined) return;
    this.#workgroups = await this.#withTags(read);
    for (const workgroup of this.#workgroups) {
      if (this.signal.aborted) return;
      const engine = engineOf(workgroup.engine);
      if (engine.sessions) await this.#listWorkgroup(workgroup.name, engine.calculations);
    }
  }

  async #listWorkgroup(workgroup: string, calculations: boolean): Promise<void> {
    const since = this.known.listedSince.get(workgroup);
    const floor = since === undefined ? this.settings.nowSeconds - this.settings.lookbackSeconds : since - CLOCK_SLACK_SECONDS;
    const startedBefore = (s: SessionSummary): boolean => s.startedAt !== undefined && s.startedAt < floor;
    const listed: SessionSummary[] = [];
    for (const options of [
      {},
      { state: "DEGRADED" },
      { state: "TERMINATED", stopAt: startedBefore },
      { state: "FAILED", stopAt: startedBefore },
    ] as const) {
      const answer = await this.api.listSessions(workgroup, this.signal, options);
      if (!answer.ok) {
        // Without every listing, which sessions ended cannot be told: nothing of this workgroup changes.
        this.#problem(`ListSessions ${workgroup}${"state" in options ? ` ${options.state}` : ""}`, answer.error);
        return;
      }
      listed.push(...answer.value);
    }
    const seen = new Map<string, boolean>();
    for (const session of listed) {
      if (!this.settings.owns(session.id)) continue;
      const ended = isSessionClosed(session.state);
      // A session that ended before the lookback is history the exporter never watched.
      if (ended && session.endedAt !== undefined && session.endedAt < this.settings.nowSeconds - this.settings.lookbackSeconds) {
        if (!this.known.sessions.has(session.id)) continue;
      }
      seen.set(session.id, ended || seen.get(session.id) === true);
    }
    // A session that no listing shows is asked about: one missing answer must not end it.
    for (const [id, session] of this.known.sessions) {
      if (session.workgroup !== workgroup || session.ended || seen.has(id) || !this.settings.owns(id)) continue;
      const answer = await this.api.getSession(id, this.signal);
      if (!answer.ok) {
        this.#problem(`GetSession ${id}`, answer.error);
        seen.set(id, false);
        continue;
      }
      seen.set(id, isSessionEnded(answer.value.state));
    }
    if (this.signal.aborted) return;
    this.#listedWorkgroups.push(workgroup);
    for (const [id, ended] of seen) {
      const before = this.known.sessions.get(id);
      this.#sessions.set(id, { id, workgroup, calculations, ended });
      // An ended session's calculations are listed once more, when it is first seen ended, so none that finished at the end is missed.
      if (!calculations || before?.ended === true) continue;
      await this.#listCalculations(id, workgroup, before?.settledThrough);
    }
  }

  async #listCalculations(sessionId: string, workgroup: string, settledThrough: number | undefined): Promise<void> {
    const stopAt =
      settledThrough === undefined
        ? undefined
        : (c: CalculationSummary): boolean => isFinished(c.state) && c.submittedAt !== undefined && c.submittedAt < settledThrough;
    const answer = await this.api.listCalculations(sessionId, this.signal, stopAt);
    if (!answer.ok) {
      this.#problem(`ListCalculationExecutions ${sessionId}`, answer.error);
      return;
    }
    for (const calculation of answer.value) this.#calculations.push({ ...calculation, workgroup });
  }

  /** The workgroups to list, with their engines: the configured names (GetWorkGroup), or every enabled one. */
  async #readWorkgroups(): Promise<readonly WorkGroupSummary[] | undefined> {
    if (this.settings.workgroups !== "all") {
      const read: WorkGroupSummary[] = [];
      for (const name of this.settings.workgroups) {
        const answer = await this.api.getWorkGroup(name, this.signal);
        if (answer.ok) {
          read.push(answer.value);
          continue;
        }
        if (answer.error.aborted === true) return undefined;
        // Without its engine (no athena:GetWorkGroup, say), a named workgroup is taken for a PySpark one.
        this.#problems.push({
          scope: `GetWorkGroup ${name}`,
          code: answer.error.code,
          reason: `${answer.error.message}; assuming PySpark engine version 3`,
          failed: false,
        });
        read.push({ name, enabled: true, state: "", engine: "PySpark engine version 3" });
      }
      return read;
    }
    const listed = await this.api.listWorkGroups(this.signal);
    if (!listed.ok) {
      this.#problem("ListWorkGroups", listed.error);
      return undefined;
    }
    return listed.value.filter((w) => w.enabled && engineOf(w.engine).sessions);
  }

  /** The workgroups with the configured tags' values; one whose tags cannot be read keeps those read before. */
  async #withTags(workgroups: readonly WorkGroupSummary[]): Promise<readonly WorkGroupSummary[]> {
    const keys = this.settings.workgroupTags;
    if (keys.length === 0) return workgroups;
    const before = new Map(this.known.workgroups.map((w) => [w.name, w.tags]));
    const tagged: WorkGroupSummary[] = [];
    for (const workgroup of workgroups) {
      const listed = await this.api.listWorkGroupTags(workgroup.name, this.signal);
      if (listed.ok) {
        tagged.push({ ...workgroup, tags: new Map(keys.map((key) => [key, listed.value.get(key) ?? ""])) });
        continue;
      }
      const previous = before.get(workgroup.name);
      tagged.push(previous === undefined ? workgroup : { ...workgroup, tags: previous });
      this.#problem(`ListTagsForResource ${workgroup.name}`, listed.error);
    }
    return tagged;
  }

  #problem(scope: string, error: ApiError): void {
    if (error.aborted === true) return;
    this.#problems.push({ scope, code: error.code, reason: error.message, failed: true });
  }
}
