import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toSession } from "../../../src/athena/parse.js";
import { engineOf, isSessionSettled } from "../../../src/athena/session.js";

const ID = "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01";
const T = new Date("2026-11-26T10:00:00Z");
const ROLE = "arn:aws:iam::123456789012:role/service-role/AthenaSpark-churn";

/** GetSession's answer as the SDK hands it over. */
const answer = (over: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Record<string, unknown> => ({
  SessionId: ID,
  WorkGroup: "analytics-spark",
  Description: "notebook of the churn team",
  EngineVersion: "PySpark engine version 3",
  EngineConfiguration: { CoordinatorDpuSize: 1, DefaultExecutorDpuSize: 1, MaxConcurrentDpus: 20 },
  NotebookVersion: "Athena notebook version 1",
  SessionConfiguration: { IdleTimeoutSeconds: 1200, ExecutionRole: ROLE },
  Status: { State: "IDLE", StartDateTime: T, LastModifiedDateTime: T, IdleSinceDateTime: T, ...status },
  Statistics: { DpuExecutionInMillis: 90_000 },
  ...over,
});

describe("GetSession's answer to a session", () => {
  it("reads every field in base units", () => {
    const parsed = toSession(ID, answer());
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      id: ID,
      workgroup: "analytics-spark",
      description: "notebook of the churn team",
      engineVersion: "PySpark engine version 3",
      state: "IDLE",
      stateChangeReason: "",
      startedAt: T.getTime() / 1000,
      lastModifiedAt: T.getTime() / 1000,
      endedAt: undefined,
      idleSince: T.getTime() / 1000,
      dpuExecutionSeconds: 90,
      coordinatorDpuSize: 1,
      defaultExecutorDpuSize: 1,
      maxConcurrentDpus: 20,
      idleTimeoutSeconds: 1200,
      executionRole: ROLE,
      notebookVersion: "Athena notebook version 1",
    });
  });

  it("keeps an execution role only if it is an IAM role ARN, without refusing the answer", () => {
    const role = (value: unknown): string => {
      const parsed = toSession(ID, answer({ SessionConfiguration: { ExecutionRole: value } }));
      assert.ok(parsed.ok);
      return parsed.value.executionRole;
    };
    assert.equal(role("arn:aws-cn:iam::123456789012:role/etl"), "arn:aws-cn:iam::123456789012:role/etl");
    assert.equal(role("arn:aws:iam::123456789012:user/alice"), "", "a user is no role");
    assert.equal(role("AthenaSpark-churn"), "", "a name is no ARN");
    assert.equal(role(`arn:aws:iam::123456789012:role/${"r".repeat(2100)}`), "", "longer than the model allows");
    assert.equal(role(undefined), "");
  });

  const refused: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ["no state", {}, { State: undefined }, /no Status\.State/],
    ["an unknown state", {}, { State: "SLEEPING" }, /unknown Status\.State "SLEEPING"/],
    ["another session's ID", { SessionId: "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c02" }, {}, /about session/],
    ["no workgroup", { WorkGroup: undefined }, {}, /WorkGroup/],
    ["a numeric description", { Description: 42 }, {}, /Description is a number/],
    ["a numeric execution role", { SessionConfiguration: { ExecutionRole: 7 } }, {}, /ExecutionRole is a number/],
    ["a notebook version that is an object", { NotebookVersion: { v: 1 } }, {}, /NotebookVersion is a object/],
    ["a 10,000-character ID", { SessionId: "x".repeat(10_000) }, {}, /10000 characters/],
    ["an absurd DPU figure", { Statistics: { DpuExecutionInMillis: 1e308 } }, {}, /DpuExecutionInMillis/],
    ["a negative coordinator size", { EngineConfiguration: { CoordinatorDpuSize: -1 } }, {}, /CoordinatorDpuSize/],
    ["an end before 2000", {}, { EndDateTime: new Date(0) }, /EndDateTime/],
  ];
  for (const [what, over, status, reason] of refused) {
    it(`refuses an answer with ${what}, saying why`, () => {
      const parsed: { ok: boolean; error?: string } = toSession(ID, answer(over, status));
      assert.equal(parsed.ok, false);
      assert.match(parsed.error ?? "", reason);
    });
  }

  it("reads the idle timeout from either field, SessionIdleTimeoutInMinutes winning when both are given", () => {
    const timeout = (configuration: Record<string, unknown>): number | undefined => {
      const parsed = toSession(ID, answer({ SessionConfiguration: configuration }));
      assert.ok(parsed.ok);
      return parsed.value.idleTimeoutSeconds;
    };
    assert.equal(timeout({ IdleTimeoutSeconds: 1200 }), 1200);
    assert.equal(timeout({ SessionIdleTimeoutInMinutes: 480 }), 480 * 60);
    assert.equal(timeout({ IdleTimeoutSeconds: 1200, SessionIdleTimeoutInMinutes: 480 }), 480 * 60);
    assert.equal(timeout({}), undefined);
    assert.match(
      String((toSession(ID, answer({ SessionConfiguration: { SessionIdleTimeoutInMinutes: -5 } })) as { error?: string }).error),
      /SessionIdleTimeoutInMinutes -5/,
    );
  });

  it("settles an ended session only once its DPU total is in", () => {
    const ended = toSession(ID, answer({}, { State: "TERMINATED", EndDateTime: T }));
    const withoutStatistics = toSession(ID, answer({ Statistics: undefined }, { State: "TERMINATED", EndDateTime: T }));
    assert.ok(ended.ok && withoutStatistics.ok);
    assert.equal(isSessionSettled(ended.value), true);
    assert.equal(isSessionSettled(withoutStatistics.value), false);
  });
});

describe("what a workgroup's engine allows", () => {
  const rows: [string, { sessions: boolean; calculations: boolean }][] = [
    ["PySpark engine version 3", { sessions: true, calculations: true }],
    ["Apache Spark version 3.5", { sessions: true, calculations: false }],
    ["Athena engine version 3", { sessions: false, calculations: false }],
    ["", { sessions: false, calculations: false }],
  ];
  for (const [engine, allows] of rows) {
    it(`${JSON.stringify(engine)}: sessions ${allows.sessions}, calculations ${allows.calculations}`, () => {
      assert.deepEqual(engineOf(engine), allows);
    });
  }
});
