import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetCalculationExecutionStatusCommand,
  GetSessionCommand,
  GetSessionStatusCommand,
  GetWorkGroupCommand,
  InvalidRequestException,
  ListCalculationExecutionsCommand,
  ListSessionsCommand,
  ListTagsForResourceCommand,
  ListWorkGroupsCommand,
  ResourceNotFoundException,
  paginateListSessions,
  type SessionStatus,
} from "@aws-sdk/client-athena";
import { SPARK_35_ENGINE } from "../../simulator/model.js";
import { AthenaSimulator } from "../../simulator/server.js";
import { TEST_CREDENTIALS } from "../helpers.js";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

describe("Athena simulator sessions, workgroups and tags, through the real AWS SDK", () => {
  let now = T0;
  const simulator = new AthenaSimulator({ now: () => now });
  const state = simulator.state;
  let client: AthenaClient;

  before(async () => {
    const endpoint = await simulator.start(0, "127.0.0.1");
    client = new AthenaClient({ region: "us-east-1", endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    client.destroy();
    await simulator.stop();
  });
  beforeEach(() => {
    now = T0;
    state.sessions.clear();
    state.calculations.clear();
    state.workGroups.clear();
  });

  it("answers GetSession with the engine, configuration, status and statistics Athena gives, timestamps as dates", async () => {
    state.addWorkGroup("wg");
    const session = state.addSession("wg", {
      description: "notebook",
      startedAtMs: T0 - 10 * MINUTE,
      coordinatorDpuSize: 2,
      defaultExecutorDpuSize: 3,
      maxConcurrentDpus: 60,
      idleTimeoutSeconds: 600,
      additionalConfigs: { NotebookId: "nb-1" },
    });
    const out = await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.equal(out.SessionId, session.id);
    assert.equal(out.Description, "notebook");
    assert.equal(out.WorkGroup, "wg");
    assert.equal(out.EngineVersion, "PySpark engine version 3");
    assert.deepEqual(out.EngineConfiguration, {
      CoordinatorDpuSize: 2,
      MaxConcurrentDpus: 60,
      DefaultExecutorDpuSize: 3,
      AdditionalConfigs: { NotebookId: "nb-1" },
    });
    assert.equal(out.NotebookVersion, "Athena notebook version 1");
    assert.equal(out.SessionConfiguration?.IdleTimeoutSeconds, 600);
    assert.match(out.SessionConfiguration.WorkingDirectory ?? "", /^s3:\/\/.+\/$/);
    assert.deepEqual(out.Status, {
      StartDateTime: new Date(T0 - 10 * MINUTE),
      LastModifiedDateTime: new Date(T0 - 10 * MINUTE),
      IdleSinceDateTime: new Date(T0 - 10 * MINUTE),
      State: "IDLE",
    });
    assert.equal(out.Statistics?.DpuExecutionInMillis, 10 * MINUTE * 2, "the coordinator's 2 DPUs for 10 minutes");
  });

  it("gives a new session Athena's defaults: 1 DPU coordinator and executors, 20 DPUs at most, 1200 s idle timeout", async () => {
    const session = state.addSession("wg");
    const out = await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.deepEqual(out.EngineConfiguration, { CoordinatorDpuSize: 1, MaxConcurrentDpus: 20, DefaultExecutorDpuSize: 1 });
    assert.equal(out.SessionConfiguration?.IdleTimeoutSeconds, 1200);
    assert.equal(out.Status?.State, "IDLE");
    assert.equal(out.Statistics?.DpuExecutionInMillis, 0);
  });

  it("grows DpuExecutionInMillis with the coordinator while alive, plus the DPU time of its calculations, and stops when it ends", async () => {
    const session = state.addSession("wg");
    const dpu = async (): Promise<number | undefined> =>
      (await client.send(new GetSessionCommand({ SessionId: session.id }))).Statistics?.DpuExecutionInMillis;
    now = T0 + MINUTE;
    assert.equal(await dpu(), MINUTE, "1 DPU coordinator for a minute");
    const calc = state.addCalculation({ sessionId: session.id, state: "RUNNING", dpus: 4 });
    now = T0 + 2 * MINUTE;
    assert.equal(await dpu(), 2 * MINUTE + 4 * MINUTE, "and the running calculation's 4 DPUs for a minute");
    state.setState(calc.id, "COMPLETED");
    now = T0 + 3 * MINUTE;
    assert.equal(await dpu(), 3 * MINUTE + 4 * MINUTE);
    state.terminateSession(session.id);
    now = T0 + 60 * MINUTE;
    assert.equal(await dpu(), 3 * MINUTE + 4 * MINUTE, "an ended session accrues nothing more");
  });

  it("stops the calculations still running in a session it terminates, which then show FAILED, and leaves finished ones as they were", () => {
    const session = state.addSession("wg", { state: "BUSY" });
    const running = state.addCalculation({ sessionId: session.id, state: "RUNNING" });
    const done = state.addCalculation({ sessionId: session.id, state: "COMPLETED" });
    state.terminateSession(session.id);
    assert.equal(running.state, "FAILED");
    assert.equal(running.stateChangeReason, "Session was terminated");
    assert.equal(running.completedAtMs, session.endedAtMs);
    assert.equal(done.state, "COMPLETED");
  });

  it("counts the executors a BUSY session keeps busy outside calculations, and honours an explicit DPU figure", async () => {
    const busy = state.addSession("wg", { state: "BUSY", busyExecutors: 4, defaultExecutorDpuSize: 2 });
    const fixed = state.addSession("wg", { dpuExecutionMillis: 42 });
    now = T0 + MINUTE;
    const a = await client.send(new GetSessionCommand({ SessionId: busy.id }));
    assert.equal(a.Status?.State, "BUSY", "a state set by the test stays while no calculation starts or stops");
    assert.equal(a.Statistics?.DpuExecutionInMillis, MINUTE * (1 + 4 * 2));
    assert.equal(a.Status.IdleSinceDateTime, undefined, "only an IDLE session has IdleSinceDateTime");
    state.setSessionState(busy.id, "IDLE");
    now = T0 + 2 * MINUTE;
    const b = await client.send(new GetSessionCommand({ SessionId: busy.id }));
    assert.equal(b.Statistics?.DpuExecutionInMillis, MINUTE * 9 + MINUTE, "IDLE: the coordinator only");
    const c = await client.send(new GetSessionCommand({ SessionId: fixed.id }));
    assert.equal(c.Statistics?.DpuExecutionInMillis, 42);
  });

  it("moves an IDLE session BUSY while a calculation runs, and IDLE again from when the last one ends", async () => {
    const session = state.addSession("wg");
    const calc = state.addCalculation({
      sessionId: session.id,
      state: "QUEUED",
      schedule: [
        { atMs: T0 + 10_000, state: "RUNNING" },
        { atMs: T0 + 70_000, state: "COMPLETED" },
      ],
    });
    const status = async (): Promise<SessionStatus | undefined> =>
      (await client.send(new GetSessionStatusCommand({ SessionId: session.id }))).Status;
    now = T0 + 30_000;
    assert.deepEqual(await status(), {
      StartDateTime: new Date(T0),
      LastModifiedDateTime: new Date(T0 + 10_000),
      State: "BUSY",
    });
    now = T0 + 120_000;
    assert.deepEqual(await status(), {
      StartDateTime: new Date(T0),
      LastModifiedDateTime: new Date(T0 + 70_000),
      IdleSinceDateTime: new Date(T0 + 70_000),
      State: "IDLE",
    });
    assert.equal(state.calculations.get(calc.id)?.state, "COMPLETED");
  });

  it("sets IdleSinceDateTime on entering IDLE, EndDateTime on entering TERMINATED or FAILED, and LastModifiedDateTime on every change", async () => {
    const session = state.addSession("wg", { state: "CREATING" });
    const out = await client.send(new GetSessionStatusCommand({ SessionId: session.id }));
    assert.equal(out.SessionId, session.id);
    assert.deepEqual(out.Status, { StartDateTime: new Date(T0), LastModifiedDateTime: new Date(T0), State: "CREATING" });

    now = T0 + 5_000;
    state.setSessionState(session.id, "IDLE");
    now = T0 + 9_000;
    state.setSessionState(session.id, "DEGRADED", "no healthy coordinator");
    const degraded = await client.send(new GetSessionStatusCommand({ SessionId: session.id }));
    assert.deepEqual(degraded.Status, {
      StartDateTime: new Date(T0),
      LastModifiedDateTime: new Date(T0 + 9_000),
      State: "DEGRADED",
      StateChangeReason: "no healthy coordinator",
    });

    now = T0 + 12_000;
    state.setSessionState(session.id, "FAILED", "coordinator lost");
    const failed = await client.send(new GetSessionStatusCommand({ SessionId: session.id }));
    assert.deepEqual(failed.Status, {
      StartDateTime: new Date(T0),
      LastModifiedDateTime: new Date(T0 + 12_000),
      EndDateTime: new Date(T0 + 12_000),
      State: "FAILED",
      StateChangeReason: "coordinator lost",
    });
  });

  it("lists only active sessions without StateFilter, newest first, and any state with one, TERMINATED included", async () => {
    const oldest = state.addSession("wg", { startedAtMs: T0 - 3 * MINUTE });
    const busy = state.addSession("wg", { state: "BUSY", startedAtMs: T0 - 2 * MINUTE });
    const creating = state.addSession("wg", { state: "CREATING", startedAtMs: T0 - MINUTE });
    const ended = state.addSession("wg", { startedAtMs: T0 - 4 * MINUTE });
    state.terminateSession(ended.id);
    const failed = state.addSession("wg", { state: "FAILED", stateChangeReason: "boom", startedAtMs: T0 - 5 * MINUTE });
    const degraded = state.addSession("wg", { state: "DEGRADED" });
    state.addSession("other-wg");

    const active = await client.send(new ListSessionsCommand({ WorkGroup: "wg" }));
    assert.deepEqual(
      active.Sessions?.map((s) => [s.SessionId, s.Status?.State]),
      [
        [creating.id, "CREATING"],
        [busy.id, "BUSY"],
        [oldest.id, "IDLE"],
      ],
    );
    const summary = active.Sessions[2];
    assert.ok(summary?.Status);
    assert.deepEqual(summary.EngineVersion, {
      SelectedEngineVersion: "PySpark engine version 3",
      EffectiveEngineVersion: "PySpark engine version 3",
    });
    assert.equal(summary.NotebookVersion, "Athena notebook version 1");
    assert.deepEqual(summary.Status.StartDateTime, new Date(T0 - 3 * MINUTE));
    assert.deepEqual(summary.Status.IdleSinceDateTime, new Date(T0 - 3 * MINUTE));

    const terminated = await client.send(new ListSessionsCommand({ WorkGroup: "wg", StateFilter: "TERMINATED" }));
    assert.deepEqual(
      terminated.Sessions?.map((s) => s.SessionId),
      [ended.id],
    );
    assert.deepEqual(terminated.Sessions[0]?.Status?.EndDateTime, new Date(T0));
    const failedOnly = await client.send(new ListSessionsCommand({ WorkGroup: "wg", StateFilter: "FAILED" }));
    assert.deepEqual(
      failedOnly.Sessions?.map((s) => [s.SessionId, s.Status?.StateChangeReason]),
      [[failed.id, "boom"]],
    );
    const degradedOnly = await client.send(new ListSessionsCommand({ WorkGroup: "wg", StateFilter: "DEGRADED" }));
    assert.deepEqual(
      degradedOnly.Sessions?.map((s) => s.SessionId),
      [degraded.id],
    );
    await assert.rejects(client.send(new ListSessionsCommand({ WorkGroup: "nope" })), InvalidRequestException);
  });

  it("pages ListSessions", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add(state.addSession("wg", { startedAtMs: T0 + i }).id);
    state.terminateSession(state.addSession("wg").id);
    const listed: string[] = [];
    for await (const page of paginateListSessions({ client, pageSize: 3 }, { WorkGroup: "wg" })) {
      assert.ok((page.Sessions?.length ?? 0) <= 3);
      listed.push(...(page.Sessions ?? []).map((s) => s.SessionId ?? ""));
    }
    assert.equal(listed.length, 7);
    assert.deepEqual(new Set(listed), ids);
  });

  it("answers GetWorkGroup with its engine, and InvalidRequestException for an unknown name", async () => {
    now = T0 - MINUTE;
    state.addWorkGroup("spark35", SPARK_35_ENGINE);
    now = T0;
    const out = await client.send(new GetWorkGroupCommand({ WorkGroup: "spark35" }));
    assert.equal(out.WorkGroup?.Name, "spark35");
    assert.equal(out.WorkGroup.State, "ENABLED");
    assert.equal(out.WorkGroup.Description, "");
    assert.deepEqual(out.WorkGroup.CreationTime, new Date(T0 - MINUTE));
    assert.deepEqual(out.WorkGroup.Configuration?.EngineVersion, {
      SelectedEngineVersion: "Apache Spark version 3.5",
      EffectiveEngineVersion: "Apache Spark version 3.5",
    });
    await assert.rejects(client.send(new GetWorkGroupCommand({ WorkGroup: "nope" })), (e: unknown) => {
      assert.ok(e instanceof InvalidRequestException);
      assert.equal(e.message, "WorkGroup nope is not found.");
      return true;
    });
  });

  it("lists each workgroup's engine in ListWorkGroups", async () => {
    state.addWorkGroup("pyspark");
    state.addWorkGroup("spark35", SPARK_35_ENGINE);
    state.addWorkGroup("sql", "Athena engine version 3");
    const out = await client.send(new ListWorkGroupsCommand({}));
    assert.deepEqual(
      out.WorkGroups?.map((w) => [w.Name, w.EngineVersion?.EffectiveEngineVersion]),
      [
        ["pyspark", "PySpark engine version 3"],
        ["spark35", "Apache Spark version 3.5"],
        ["sql", "Athena engine version 3"],
      ],
    );
  });

  it("lists a workgroup's tags by its ARN, in any region and account, and ResourceNotFoundException for an unknown one", async () => {
    state.tagWorkGroup("wg", { team: "analytics", "cost-center": "CC-1001" });
    state.tagWorkGroup("wg", { team: "data" });
    state.addWorkGroup("untagged");
    const out = await client.send(new ListTagsForResourceCommand({ ResourceARN: "arn:aws:athena:eu-west-1:123456789012:workgroup/wg" }));
    assert.deepEqual(out.Tags, [
      { Key: "team", Value: "data" },
      { Key: "cost-center", Value: "CC-1001" },
    ]);
    assert.equal(out.NextToken, undefined);
    const none = await client.send(
      new ListTagsForResourceCommand({ ResourceARN: "arn:aws:athena:us-east-1:999999999999:workgroup/untagged" }),
    );
    assert.deepEqual(none.Tags, []);
    simulator.resetCalls();
    await assert.rejects(
      client.send(new ListTagsForResourceCommand({ ResourceARN: "arn:aws:athena:us-east-1:123456789012:workgroup/nope" })),
      (e: unknown) => {
        assert.ok(e instanceof ResourceNotFoundException);
        assert.equal(e.ResourceName, "arn:aws:athena:us-east-1:123456789012:workgroup/nope");
        return true;
      },
    );
    assert.equal(simulator.calls("ListTagsForResource", "nope"), 1, "counted under the workgroup's name");
    await assert.rejects(client.send(new ListTagsForResourceCommand({ ResourceARN: "wg" })), InvalidRequestException);
    await assert.rejects(
      client.send(new ListTagsForResourceCommand({ ResourceARN: "arn:aws:athena:us-east-1:123456789012:workgroup/wg", MaxResults: 10 })),
      InvalidRequestException,
      "Athena's MaxResults here is at least 75",
    );
  });

  it("serves sessions on Apache Spark version 3.5 and refuses the calculation APIs for them", async () => {
    state.addWorkGroup("spark35", SPARK_35_ENGINE);
    const session = state.addSession("spark35", { state: "BUSY", busyExecutors: 2 });
    // Athena never has one; the test API allows it so the refusal of GetCalculationExecution can be seen.
    const calc = state.addCalculation({ sessionId: session.id, state: "RUNNING" });

    const out = await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.equal(out.EngineVersion, "Apache Spark version 3.5");
    assert.equal(out.WorkGroup, "spark35");
    const listed = await client.send(new ListSessionsCommand({ WorkGroup: "spark35" }));
    assert.deepEqual(listed.Sessions?.[0]?.EngineVersion?.EffectiveEngineVersion, "Apache Spark version 3.5");

    const refused = (e: unknown): boolean => {
      assert.ok(e instanceof InvalidRequestException);
      assert.match(e.message, /not supported/);
      assert.match(e.message, /Apache Spark version 3\.5/);
      return true;
    };
    await assert.rejects(client.send(new ListCalculationExecutionsCommand({ SessionId: session.id })), refused);
    await assert.rejects(client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: calc.id })), refused);
    await assert.rejects(client.send(new GetCalculationExecutionStatusCommand({ CalculationExecutionId: calc.id })), refused);
  });

  it("keeps addSession(workGroup, id) working and answers InvalidRequestException for an unknown session", async () => {
    const id = "5b1c3d4e-0fff-4a6b-8c9d-0e1f2a3b4cff";
    assert.equal(state.addSession("wg", id).id, id);
    assert.equal((await client.send(new GetSessionStatusCommand({ SessionId: id }))).Status?.State, "IDLE");
    await assert.rejects(
      client.send(new GetSessionCommand({ SessionId: "00000000-0000-4000-8000-000000000000" })),
      InvalidRequestException,
    );
    await assert.rejects(client.send(new GetSessionStatusCommand({ SessionId: "nope" })), InvalidRequestException);
  });
});
