import { UUID_RE, isFinished, type CalculationState } from "../src/calculations/calculation.js";
import { newId, type NewCalculation, type Operation, type SimCalculation, type SimSession, type SimWorkGroup } from "./model.js";

/** An AWS error as the JSON 1.1 protocol carries it. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const S3_BUCKET = "s3://athena-simulator-results";
const SPARK_ENGINE = "PySpark engine version 3";
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

  constructor(readonly now: () => number = Date.now) {}

  addWorkGroup(name: string, engine = SPARK_ENGINE): SimWorkGroup {
    const existing = this.workGroups.get(name);
    if (existing) return existing;
    const wg: SimWorkGroup = { name, engine, state: "ENABLED", description: "", createdAtMs: this.now() };
    this.workGroups.set(name, wg);
    return wg;
  }

  addSession(workGroup: string, id: string = newId()): SimSession {
    this.addWorkGroup(workGroup);
    const session: SimSession = { id, workGroup, description: "", state: "IDLE", startedAtMs: this.now(), endedAtMs: undefined };
    this.sessions.set(id, session);
    this.#sessionCalculations.set(id, []);
    return session;
  }

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

  /** Ends a session as Athena does when it is terminated. */
  terminateSession(id: string): void {
    const session = this.sessions.get(id);
    if (!session) throw new Error(`no session ${id}`);
    session.state = "TERMINATED";
    session.endedAtMs = this.now();
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
    this.#advance(calc);
    return calc;
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
          Result: {
            StdOutS3Uri: `${base}/stdout.txt`,
            StdErrorS3Uri: `${base}/stderr.txt`,
            ResultS3Uri: `${base}/result.json`,
            ResultType: calc.resultType,
          },
        };
      }
      case "GetCalculationExecutionStatus": {
        const calc = this.#calculation(input.CalculationExecutionId);
        return { Status: this.#status(calc), ...this.#statistics(calc) };
      }
      case "GetSession": {
        const session = this.#session(input.SessionId);
        return {
          SessionId: session.id,
          Description: session.description,
          WorkGroup: session.workGroup,
          EngineVersion: "PySpark engine version 3",
          EngineConfiguration: { CoordinatorDpuSize: 1, MaxConcurrentDpus: 20, DefaultExecutorDpuSize: 1 },
          NotebookVersion: "Athena notebook version 1",
          Status: { StartDateTime: toEpochSeconds(session.startedAtMs), State: session.state },
        };
      }
      case "ListSessions": {
        const wg = input.WorkGroup;
        if (typeof wg !== "string" || !this.workGroups.has(wg)) {
          throw new AwsError("InvalidRequestException", 400, `WorkGroup ${String(wg)} is not found.`);
        }
        const all = [...this.sessions.values()].filter((s) => s.workGroup === wg);
        return this.#page(input, all, "Sessions", (s) => ({
          SessionId: s.id,
          Description: s.description,
          EngineVersion: { SelectedEngineVersion: "PySpark engine version 3", EffectiveEngineVersion: "PySpark engine version 3" },
          NotebookVersion: "Athena notebook version 1",
          Status: {
            StartDateTime: toEpochSeconds(s.startedAtMs),
            ...(s.endedAtMs === undefined ? {} : { EndDateTime: toEpochSeconds(s.endedAtMs) }),
            State: s.state,
          },
        }));
      }
      case "ListCalculationExecutions": {
        const session = this.#session(input.SessionId);
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
      case "ListWorkGroups":
        return this.#page(input, [...this.workGroups.values()], "WorkGroups", (w) => ({
          Name: w.name,
          State: w.state,
          Description: w.description,
          CreationTime: toEpochSeconds(w.createdAtMs),
          EngineVersion: { SelectedEngineVersion: w.engine, EffectiveEngineVersion: w.engine },
        }));
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

  #page<T>(input: Json, items: readonly T[], key: string, render: (item: T) => Json): Json {
    const max = typeof input.MaxResults === "number" ? input.MaxResults : 50;
    if (max < 1 || max > 100) throw new AwsError("InvalidRequestException", 400, "MaxResults must be between 1 and 100");
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
