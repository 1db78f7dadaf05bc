import { UUID_RE, isFinished, type CalculationState } from "../src/athena/calculation.js";
import {
  ACTIVE_SESSION_STATES,
  isSessionEnded,
  isSessionState,
  newId,
  PYSPARK_ENGINE,
  supportsCalculations,
  type NewCalculation,
  type NewSession,
  type Operation,
  type SessionState,
  type SimCalculation,
  type SimSession,
  type SimWorkGroup,
} from "./model.js";
import { isExecutorState, SessionExecutors } from "./executors.js";

/** An AWS error as the JSON 1.1 protocol carries it. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    /** Members the error's JSON carries besides __type and Message, such as ResourceNotFoundException's ResourceName. */
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const S3_BUCKET = "s3://athena-simulator-results";
const NOTEBOOK_VERSION = "Athena notebook version 1";
/** Whose roles sessions run as by default: the account server.ts answers GetCallerIdentity with. */
const ROLE_ACCOUNT = "123456789012";
// "arn:aws:athena:us-east-1:123456789012:workgroup/primary"; any partition, region and account.
const WORKGROUP_ARN = /^arn:aws[a-z-]*:athena:[^:]*:[^:]*:workgroup\/(.+)$/;
const ATHENA_ARN = /^arn:aws[a-z-]*:athena:[^:]*:[^:]*:[^/]+\/.+$/;
const toEpochSeconds = (ms: number): number => ms / 1000;

type Json = Record<string, unknown>;

/**
 * Athena's Spark calculation API as an in-memory model: sessions in
 * workgroups, calculations in sessions, each moving through its states either
 * on a schedule or when a test says so.
 */
export class AthenaState {
  readonly workGroups = new Map<string, SimWorkGroup>();
  readonly sessions = new Map<string, SimSession>();
  readonly calculations = new Map<string, SimCalculation>();
  readonly #sessionCalculations = new Map<string, string[]>();
  /** Each session's executors, as ListExecutors lists them. */
  readonly executors: SessionExecutors;

  constructor(readonly now: () => number = Date.now) {
    this.executors = new SessionExecutors(now);
  }

  addWorkGroup(name: string, engine = PYSPARK_ENGINE): SimWorkGroup {
    const existing = this.workGroups.get(name);
    if (existing) return existing;
    const wg: SimWorkGroup = { name, engine, state: "ENABLED", description: "", createdAtMs: this.now(), tags: new Map() };
    this.workGroups.set(name, wg);
    return wg;
  }

  /** Adds (or overwrites) tags on a workgroup, creating it on the default engine if it does not exist. */
  tagWorkGroup(name: string, tags: Readonly<Record<string, string>>): SimWorkGroup {
    const wg = this.addWorkGroup(name);
    for (const [key, value] of Object.entries(tags)) wg.tags.set(key, value);
    return wg;
  }

  /**
   * Starts a session in `workGroup` (created on the PySpark engine if new),
   * IDLE since now unless `options` say otherwise. The second argument is
   * either the session ID or the options.
   */
  addSession(workGroup: string, idOrOptions: string | NewSession = {}): SimSession {
    const spec: NewSession = typeof idOrOptions === "string" ? { id: idOrOptions } : idOrOptions;
    const wg = this.addWorkGroup(workGroup);
    const id = spec.id ?? newId();
    const now = this.now();
    const state = spec.state ?? "IDLE";
    const startedAtMs = spec.startedAtMs ?? now;
    const endedAtMs = isSessionEnded(state) ? (spec.endedAtMs ?? now) : undefined;
    const idleSinceMs = state === "IDLE" ? (spec.idleSinceMs ?? startedAtMs) : undefined;
    const session: SimSession = {
      id,
      workGroup,
      engineVersion: wg.engine,
      description: spec.description ?? "",
      state,
      stateChangeReason: spec.stateChangeReason ?? "",
      startedAtMs,
      endedAtMs,
      idleSinceMs,
      lastModifiedMs: spec.lastModifiedMs ?? Math.max(startedAtMs, endedAtMs ?? startedAtMs, idleSinceMs ?? startedAtMs),
      coordinatorDpuSize: spec.coordinatorDpuSize ?? 1,
      defaultExecutorDpuSize: spec.defaultExecutorDpuSize ?? 1,
      maxConcurrentDpus: spec.maxConcurrentDpus ?? 20,
      idleTimeoutSeconds: spec.idleTimeoutSeconds ?? 1200,
      idleTimeoutMinutes: spec.idleTimeoutMinutes,
      notebookVersion: spec.notebookVersion ?? NOTEBOOK_VERSION,
      executionRole: spec.executionRole ?? `arn:aws:iam::${ROLE_ACCOUNT}:role/AthenaSparkExecution-${workGroup}`,
      workingDirectory: spec.workingDirectory ?? `${S3_BUCKET}/sessions/${id}/`,
      additionalConfigs: { ...(spec.additionalConfigs ?? {}) },
      busyExecutors: spec.busyExecutors ?? 0,
      dpuExecutionMillis: spec.dpuExecutionMillis,
      accruedDpuMillis: 0,
      accruedToMs: startedAtMs,
      hadRunningCalculation: false,
    };
    // A session created already ended accrued its coordinator's DPUs from start to end.
    if (endedAtMs !== undefined) this.#accrue(session, endedAtMs);
    // Its coordinator runs from the session's start to its end.
    this.executors.add(id, { type: "COORDINATOR", size: session.coordinatorDpuSize, startedAtMs });
    if (endedAtMs !== undefined) this.executors.endSession(id, endedAtMs);
    this.sessions.set(id, session);
    this.#sessionCalculations.set(id, []);
    return session;
  }

  /**
   * Adds a calculation to a session. A session on Apache Spark version 3.5
   * never has one in Athena; one added here lets a test see the calculation
   * APIs refuse it.
   */
  addCalculation(spec: NewCalculation): SimCalculation {
    if (!this.sessions.has(spec.sessionId)) throw new Error(`no session ${spec.sessionId}`);
    const id = spec.id ?? newId();
    const state = spec.state ?? "CREATING";
    const submittedAtMs = spec.submittedAtMs ?? this.now();
    const calc: SimCalculation = {
      id,
      sessionId: spec.sessionId,
      description: spec.description ?? "",
      workingDirectory: spec.workingDirectory ?? `${S3_BUCKET}/sessions/${spec.sessionId}/`,
      submittedAtMs,
      completedAtMs: spec.completedAtMs ?? (isFinished(state) ? this.now() : undefined),
      state,
      stateChangeReason: spec.stateChangeReason ?? "",
      dpuExecutionMillis: spec.dpuExecutionMillis,
      runningSinceMs: state === "RUNNING" ? this.now() : undefined,
      runningMillis: 0,
      dpus: spec.dpus ?? 2,
      statistics: spec.statistics ?? true,
      progress: spec.progress ?? "",
      resultType: spec.resultType ?? "TEXT",
      schedule: [...(spec.schedule ?? [])].sort((a, b) => a.atMs - b.atMs),
    };
    this.calculations.set(id, calc);
    this.#sessionCalculations.get(spec.sessionId)?.push(id);
    return calc;
  }

  /**
   * Forgets a session and its calculations, as Athena's listings stop
   * showing old work: what keeps a simulator that runs for days bounded.
   */
  forgetSession(id: string): void {
    for (const calcId of this.#sessionCalculations.get(id) ?? []) this.calculations.delete(calcId);
    this.#sessionCalculations.delete(id);
    this.sessions.delete(id);
    this.executors.forget(id);
  }

  /** The calculations of a session, brought up to date. */
  calculationsOf(id: string): SimCalculation[] {
    const session = this.sessions.get(id);
    return session === undefined ? [] : this.#refreshSession(session);
  }

  /** Ends a session as Athena does when it is terminated. */
  /**
   * Ends a session as TerminateSession does: the calculations still
   * unfinished in it stop, and "may display as FAILED" (the API's words),
   * as they do here.
   */
  terminateSession(id: string): void {
    const at = this.now();
    for (const calc of this.calculations.values()) {
      if (calc.sessionId === id && !isFinished(calc.state)) this.#enter(calc, "FAILED", "Session was terminated", at);
    }
    this.setSessionState(id, "TERMINATED");
  }

  /**
   * Moves a session to `state` now: entering IDLE sets IdleSinceDateTime,
   * entering TERMINATED or FAILED sets EndDateTime, and every change sets
   * LastModifiedDateTime.
   */
  setSessionState(id: string, state: SessionState, reason = ""): void {
    const session = this.sessions.get(id);
    if (!session) throw new Error(`no session ${id}`);
    this.#enterSession(session, state, reason, this.now());
  }

  #enterSession(session: SimSession, state: SessionState, reason: string, atMs: number): void {
    this.#accrue(session, atMs);
    if (state === "IDLE" && session.state !== "IDLE") session.idleSinceMs = atMs;
    if (state !== "IDLE") session.idleSinceMs = undefined;
    if (isSessionEnded(state) && !isSessionEnded(session.state)) {
      session.endedAtMs = atMs;
      this.executors.endSession(session.id, atMs);
    }
    if (!isSessionEnded(state)) session.endedAtMs = undefined;
    session.state = state;
    session.stateChangeReason = reason;
    session.lastModifiedMs = atMs;
  }

  /** Adds the coordinator's and busy executors' DPU time from the last accrual up to `toMs`, at the rate of the current state. */
  #accrue(session: SimSession, toMs: number): void {
    if (toMs <= session.accruedToMs) return;
    if (!isSessionEnded(session.state)) {
      const executors = session.state === "BUSY" ? session.defaultExecutorDpuSize * session.busyExecutors : 0;
      session.accruedDpuMillis += (toMs - session.accruedToMs) * (session.coordinatorDpuSize + executors);
    }
    session.accruedToMs = toMs;
  }

  /**
   * Brings a session up to date with its calculations: when one starts
   * RUNNING an IDLE session turns BUSY, and when none runs any more a BUSY
   * one turns IDLE. Only such a change moves it, so a state a test set
   * stays until its calculations next start or stop running.
   */
  #refreshSession(session: SimSession): SimCalculation[] {
    const calcs = (this.#sessionCalculations.get(session.id) ?? []).map((id) => this.#advanced(id));
    const running = calcs.filter((c) => c.state === "RUNNING");
    const busy = running.length > 0;
    if (busy === session.hadRunningCalculation) return calcs;
    session.hadRunningCalculation = busy;
    if (busy && session.state === "IDLE") {
      const since = Math.max(...running.map((c) => c.runningSinceMs ?? this.now()));
      this.#enterSession(session, "BUSY", "", Math.max(since, session.lastModifiedMs));
    } else if (!busy && session.state === "BUSY") {
      const ended = Math.max(0, ...calcs.map((c) => c.completedAtMs ?? 0));
      this.#enterSession(session, "IDLE", "", Math.min(this.now(), Math.max(ended, session.lastModifiedMs)));
    }
    return calcs;
  }

  /**
   * The session's DPU time: its coordinator's DPUs for as long as it is alive
   * (plus `busyExecutors` executors while BUSY), plus the DPU time its
   * calculations report, so it never falls below the sum of theirs.
   */
  #sessionDpuMillis(session: SimSession, calcs: readonly SimCalculation[]): number {
    if (session.dpuExecutionMillis !== undefined) return session.dpuExecutionMillis;
    this.#accrue(session, this.now());
    return Math.round(session.accruedDpuMillis + calcs.reduce((sum, c) => sum + this.#dpuMillis(c), 0));
  }

  /** Moves a calculation to `state` now, as Athena would. */
  setState(id: string, state: CalculationState, reason = ""): void {
    const calc = this.calculations.get(id);
    if (!calc) throw new Error(`no calculation ${id}`);
    this.#enter(calc, state, reason, this.now());
  }

  #enter(calc: SimCalculation, state: CalculationState, reason: string, atMs: number): void {
    if (calc.runningSinceMs !== undefined) {
      calc.runningMillis += atMs - calc.runningSinceMs;
      calc.runningSinceMs = undefined;
    }
    if (state === "RUNNING") calc.runningSinceMs = atMs;
    if (isFinished(state)) calc.completedAtMs = atMs;
    calc.state = state;
    calc.stateChangeReason = reason;
  }

  /** Applies every scheduled step that is due. */
  #advance(calc: SimCalculation): void {
    const now = this.now();
    while (calc.schedule.length > 0 && (calc.schedule[0]?.atMs ?? Infinity) <= now) {
      const step = calc.schedule.shift();
      if (step) this.#enter(calc, step.state, step.reason ?? "", step.atMs);
    }
  }

  #calculation(id: unknown): SimCalculation {
    if (typeof id !== "string" || id === "") {
      throw new AwsError("InvalidRequestException", 400, "CalculationExecutionId is required");
    }
    if (!UUID_RE.test(id)) {
      throw new AwsError("InvalidRequestException", 400, `Invalid CalculationExecutionId: ${id}`);
    }
    const calc = this.calculations.get(id);
    if (!calc) throw new AwsError("ResourceNotFoundException", 400, `Calculation ${id} not found`);
    const session = this.sessions.get(calc.sessionId);
    if (session) this.#refuseCalculationsOn(session);
    this.#advance(calc);
    return calc;
  }

  #advanced(id: string): SimCalculation {
    const calc = this.calculations.get(id);
    if (!calc) throw new Error(`no calculation ${id}`);
    this.#advance(calc);
    return calc;
  }

  /** AWS: "Notebooks and Calculations APIs are not supported in the release version Apache Spark version 3.5". */
  #refuseCalculationsOn(session: SimSession): void {
    if (supportsCalculations(session.engineVersion)) return;
    throw new AwsError(
      "InvalidRequestException",
      400,
      `Calculations APIs are not supported for session ${session.id}: its engine version ${session.engineVersion} does not support them.`,
    );
  }

  #dpuMillis(calc: SimCalculation): number {
    if (calc.dpuExecutionMillis !== undefined) return calc.dpuExecutionMillis;
    const running = calc.runningMillis + (calc.runningSinceMs === undefined ? 0 : this.now() - calc.runningSinceMs);
    return Math.round(running * calc.dpus);
  }

  #status(calc: SimCalculation): Json {
    return {
      SubmissionDateTime: toEpochSeconds(calc.submittedAtMs),
      ...(calc.completedAtMs === undefined ? {} : { CompletionDateTime: toEpochSeconds(calc.completedAtMs) }),
      State: calc.state,
      ...(calc.stateChangeReason === "" ? {} : { StateChangeReason: calc.stateChangeReason }),
    };
  }

  #statistics(calc: SimCalculation): Json {
    return calc.statistics ? { Statistics: { DpuExecutionInMillis: this.#dpuMillis(calc), Progress: calc.progress } } : {};
  }

  /** Answers one API call; throws AwsError for the answers AWS gives as errors. */
  handle(operation: Operation, input: Json): Json {
    switch (operation) {
      case "GetCalculationExecution": {
        const calc = this.#calculation(input.CalculationExecutionId);
        const base = `${calc.workingDirectory}${calc.id}`;
        return {
          CalculationExecutionId: calc.id,
          SessionId: calc.sessionId,
          Description: calc.description,
          WorkingDirectory: calc.workingDirectory,
          Status: this.#status(calc),
          ...this.#statistics(calc),
          // "Populated only if the calculation is completed" (the API model): a running one has no Result.
          ...(isFinished(calc.state)
            ? {
                Result: {
                  StdOutS3Uri: `${base}/stdout.txt`,
                  StdErrorS3Uri: `${base}/stderr.txt`,
                  ResultS3Uri: `${base}/result.json`,
                  ResultType: calc.resultType,
                },
              }
            : {}),
        };
      }
      case "GetCalculationExecutionStatus": {
        const calc = this.#calculation(input.CalculationExecutionId);
        return { Status: this.#status(calc), ...this.#statistics(calc) };
      }
      case "GetSession": {
        const session = this.#session(input.SessionId);
        const calcs = this.#refreshSession(session);
        return {
          SessionId: session.id,
          Description: session.description,
          WorkGroup: session.workGroup,
          EngineVersion: session.engineVersion,
          EngineConfiguration: {
            CoordinatorDpuSize: session.coordinatorDpuSize,
            MaxConcurrentDpus: session.maxConcurrentDpus,
            DefaultExecutorDpuSize: session.defaultExecutorDpuSize,
            ...(Object.keys(session.additionalConfigs).length === 0 ? {} : { AdditionalConfigs: { ...session.additionalConfigs } }),
          },
          NotebookVersion: session.notebookVersion,
          SessionConfiguration: {
            ExecutionRole: session.executionRole,
            IdleTimeoutSeconds: session.idleTimeoutSeconds,
            ...(session.idleTimeoutMinutes === undefined ? {} : { SessionIdleTimeoutInMinutes: session.idleTimeoutMinutes }),
            WorkingDirectory: session.workingDirectory,
          },
          Status: this.#sessionStatus(session),
          Statistics: { DpuExecutionInMillis: this.#sessionDpuMillis(session, calcs) },
        };
      }
      case "GetSessionStatus": {
        const session = this.#session(input.SessionId);
        this.#refreshSession(session);
        return { SessionId: session.id, Status: this.#sessionStatus(session) };
      }
      case "ListSessions": {
        const wg = this.#workGroup(input.WorkGroup);
        const filter = input.StateFilter;
        if (filter !== undefined && !isSessionState(filter)) {
          throw new AwsError("InvalidRequestException", 400, `Invalid StateFilter: ${JSON.stringify(filter)}`);
        }
        // Without a filter Athena lists only active sessions; with one, the sessions in that state, ended ones included.
        const wanted = filter === undefined ? ACTIVE_SESSION_STATES : [filter];
        const sessions = [...this.sessions.values()].filter((s) => s.workGroup === wg.name);
        for (const session of sessions) this.#refreshSession(session);
        // Athena lists the newest first; of two started in the same millisecond, the one added last.
        const selected = sessions.filter((s) => wanted.includes(s.state)).reverse();
        selected.sort((a, b) => b.startedAtMs - a.startedAtMs);
        return this.#page(input, selected, "Sessions", (s) => ({
          SessionId: s.id,
          Description: s.description,
          EngineVersion: { SelectedEngineVersion: s.engineVersion, EffectiveEngineVersion: s.engineVersion },
          NotebookVersion: s.notebookVersion,
          Status: this.#sessionStatus(s),
        }));
      }
      case "ListCalculationExecutions": {
        const session = this.#session(input.SessionId);
        this.#refuseCalculationsOn(session);
        const ids = this.#sessionCalculations.get(session.id) ?? [];
        const calcs = ids.map((id) => this.#calculation(id));
        const filter = input.StateFilter;
        const selected = typeof filter === "string" ? calcs.filter((c) => c.state === filter) : calcs;
        // Athena lists the newest first.
        selected.sort((a, b) => b.submittedAtMs - a.submittedAtMs);
        return this.#page(input, selected, "Calculations", (c) => ({
          CalculationExecutionId: c.id,
          Description: c.description,
          Status: this.#status(c),
        }));
      }
      case "ListExecutors": {
        const session = this.#executorsSession(input.SessionId);
        const filter = input.ExecutorStateFilter;
        if (filter !== undefined && !isExecutorState(filter)) {
          throw new AwsError("InvalidRequestException", 400, `Invalid ExecutorStateFilter: ${JSON.stringify(filter)}`);
        }
        const executors = this.executors.listed(session.id).filter((e) => filter === undefined || e.state === filter);
        const page = this.#page(input, executors, "ExecutorsSummary", (e) => ({
          ExecutorId: e.id,
          ExecutorType: e.type,
          StartDateTime: e.startedAtMs,
          ...(e.terminatedAtMs === undefined ? {} : { TerminationDateTime: e.terminatedAtMs }),
          ExecutorState: e.state,
          ExecutorSize: e.size,
        }));
        return { SessionId: session.id, ...page };
      }
      case "GetWorkGroup": {
        const wg = this.#workGroup(input.WorkGroup);
        return {
          WorkGroup: {
            Name: wg.name,
            State: wg.state,
            Description: wg.description,
            CreationTime: toEpochSeconds(wg.createdAtMs),
            Configuration: { EngineVersion: { SelectedEngineVersion: wg.engine, EffectiveEngineVersion: wg.engine } },
          },
        };
      }
      case "ListWorkGroups":
        return this.#page(input, [...this.workGroups.values()], "WorkGroups", (w) => ({
          Name: w.name,
          State: w.state,
          Description: w.description,
          CreationTime: toEpochSeconds(w.createdAtMs),
          EngineVersion: { SelectedEngineVersion: w.engine, EffectiveEngineVersion: w.engine },
        }));
      case "ListTagsForResource": {
        const wg = this.#taggedWorkGroup(input.ResourceARN);
        // Athena's MaxResults here has a minimum of 75 and no maximum.
        return this.#page(input, [...wg.tags], "Tags", ([Key, Value]) => ({ Key, Value }), { min: 75, max: Infinity, default: 100 });
      }
      default: {
        const unreachable: never = operation;
        return unreachable;
      }
    }
  }

  #session(id: unknown): SimSession {
    if (typeof id !== "string" || !UUID_RE.test(id)) {
      throw new AwsError("InvalidRequestException", 400, `Invalid SessionId: ${String(id)}`);
    }
    const session = this.sessions.get(id);
    if (!session) throw new AwsError("InvalidRequestException", 400, `Session ${id} is not found.`);
    return session;
  }

  /**
   * ListExecutors documents ResourceNotFoundException: a well-formed ID of no
   * session is not found (with the ID as ResourceName), a malformed one is
   * an invalid request.
   */
  #executorsSession(id: unknown): SimSession {
    if (typeof id !== "string" || !UUID_RE.test(id)) {
      throw new AwsError("InvalidRequestException", 400, `Invalid SessionId: ${String(id)}`);
    }
    const session = this.sessions.get(id);
    if (!session) throw new AwsError("ResourceNotFoundException", 400, `Session ${id} is not found.`, { ResourceName: id });
    this.#refreshSession(session);
    return session;
  }

  #workGroup(name: unknown): SimWorkGroup {
    const wg = typeof name === "string" ? this.workGroups.get(name) : undefined;
    if (!wg) throw new AwsError("InvalidRequestException", 400, `WorkGroup ${String(name)} is not found.`);
    return wg;
  }

  /** The workgroup an ARN names; only workgroups are simulated, so any other Athena resource is not found. */
  #taggedWorkGroup(arn: unknown): SimWorkGroup {
    if (typeof arn !== "string" || !ATHENA_ARN.test(arn)) {
      throw new AwsError("InvalidRequestException", 400, `Invalid ResourceARN: ${String(arn)}`);
    }
    const name = WORKGROUP_ARN.exec(arn)?.[1];
    const wg = name === undefined ? undefined : this.workGroups.get(name);
    if (!wg) throw new AwsError("ResourceNotFoundException", 400, `Resource ${arn} is not found.`, { ResourceName: arn });
    return wg;
  }

  #sessionStatus(session: SimSession): Json {
    return {
      StartDateTime: toEpochSeconds(session.startedAtMs),
      LastModifiedDateTime: toEpochSeconds(session.lastModifiedMs),
      ...(session.endedAtMs === undefined ? {} : { EndDateTime: toEpochSeconds(session.endedAtMs) }),
      ...(session.idleSinceMs === undefined ? {} : { IdleSinceDateTime: toEpochSeconds(session.idleSinceMs) }),
      State: session.state,
      ...(session.stateChangeReason === "" ? {} : { StateChangeReason: session.stateChangeReason }),
    };
  }

  #page<T>(
    input: Json,
    items: readonly T[],
    key: string,
    render: (item: T) => Json,
    bounds: { min: number; max: number; default: number } = { min: 1, max: 100, default: 50 },
  ): Json {
    const max = typeof input.MaxResults === "number" ? input.MaxResults : bounds.default;
    if (max < bounds.min || max > bounds.max) {
      const range = bounds.max === Infinity ? `at least ${bounds.min}` : `between ${bounds.min} and ${bounds.max}`;
      throw new AwsError("InvalidRequestException", 400, `MaxResults must be ${range}`);
    }
    let start = 0;
    if (typeof input.NextToken === "string") {
      start = Number(Buffer.from(input.NextToken, "base64url").toString("utf8"));
      if (!Number.isInteger(start) || start < 0) throw new AwsError("InvalidRequestException", 400, "Invalid NextToken");
    }
    const end = start + max;
    return {
      [key]: items.slice(start, end).map(render),
      ...(end < items.length ? { NextToken: Buffer.from(String(end)).toString("base64url") } : {}),
    };
  }
}
