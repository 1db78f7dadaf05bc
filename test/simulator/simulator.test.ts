import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetCalculationExecutionStatusCommand,
  GetSessionCommand,
  InternalServerException,
  InvalidRequestException,
  ListCalculationExecutionsCommand,
  ListSessionsCommand,
  ListWorkGroupsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  paginateListCalculationExecutions,
} from "@aws-sdk/client-athena";
import { AthenaSimulator } from "../../simulator/server.js";
import { TEST_CREDENTIALS } from "../helpers.js";

describe("Athena simulator, through the real AWS SDK", () => {
  const simulator = new AthenaSimulator();
  let client: AthenaClient;
  let endpoint = "";
  const session = simulator.state.addSession("spark-wg");
  const failed = simulator.state.addCalculation({
    sessionId: session.id,
    description: "job",
    state: "FAILED",
    stateChangeReason: "boom",
    submittedAtMs: 1_700_000_000_250,
    completedAtMs: 1_700_000_042_750,
    dpuExecutionMillis: 123_456,
    progress: "100%",
  });

  before(async () => {
    endpoint = await simulator.start(0, "127.0.0.1");
    client = new AthenaClient({ region: "us-east-1", endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    client.destroy();
    await simulator.stop();
  });

  it("answers GetCalculationExecution with every field, timestamps as dates", async () => {
    const out = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id }));
    assert.equal(out.CalculationExecutionId, failed.id);
    assert.equal(out.SessionId, session.id);
    assert.equal(out.Description, "job");
    assert.ok(out.Status);
    assert.equal(out.Status.State, "FAILED");
    assert.equal(out.Status.StateChangeReason, "boom");
    assert.deepEqual(out.Status.SubmissionDateTime, new Date(1_700_000_000_250));
    assert.deepEqual(out.Status.CompletionDateTime, new Date(1_700_000_042_750));
    assert.equal(out.Statistics?.DpuExecutionInMillis, 123_456);
    assert.equal(out.Statistics.Progress, "100%");
    assert.match(out.Result?.StdOutS3Uri ?? "", /^s3:\/\//);
    assert.equal(out.Result?.ResultType, "TEXT");
  });

  it("answers GetCalculationExecutionStatus and GetSession", async () => {
    const status = await client.send(new GetCalculationExecutionStatusCommand({ CalculationExecutionId: failed.id }));
    assert.equal(status.Status?.State, "FAILED");
    const s = await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.equal(s.WorkGroup, "spark-wg");
  });

  it("pages ListCalculationExecutions, ListSessions and ListWorkGroups", async () => {
    for (let i = 0; i < 7; i++) simulator.state.addCalculation({ sessionId: session.id, state: "COMPLETED" });
    const ids: string[] = [];
    for await (const page of paginateListCalculationExecutions({ client, pageSize: 3 }, { SessionId: session.id })) {
      assert.ok((page.Calculations?.length ?? 0) <= 3);
      ids.push(...(page.Calculations ?? []).map((c) => c.CalculationExecutionId ?? ""));
    }
    assert.equal(ids.length, 8);
    assert.equal(new Set(ids).size, 8);
    const failedOnly = await client.send(new ListCalculationExecutionsCommand({ SessionId: session.id, StateFilter: "FAILED" }));
    assert.deepEqual(
      failedOnly.Calculations?.map((c) => c.CalculationExecutionId),
      [failed.id],
    );
    const sessions = await client.send(new ListSessionsCommand({ WorkGroup: "spark-wg" }));
    assert.deepEqual(
      sessions.Sessions?.map((s) => s.SessionId),
      [session.id],
    );
    const workgroups = await client.send(new ListWorkGroupsCommand({}));
    assert.deepEqual(
      workgroups.WorkGroups?.map((w) => w.Name),
      ["spark-wg"],
    );
  });

  it("moves a calculation through its scheduled states", async () => {
    const now = Date.now();
    const calc = simulator.state.addCalculation({
      sessionId: session.id,
      state: "QUEUED",
      schedule: [
        { atMs: now - 10, state: "RUNNING" },
        { atMs: now + 60_000, state: "COMPLETED" },
      ],
    });
    const out = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: calc.id }));
    assert.ok(out.Status);
    assert.equal(out.Status.State, "RUNNING");
    assert.equal(out.Status.CompletionDateTime, undefined);
  });

  it("answers AWS errors the SDK turns into its own exception classes", async () => {
    await assert.rejects(client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: "nope" })), InvalidRequestException);
    await assert.rejects(
      client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: "00000000-0000-4000-8000-000000000000" })),
      ResourceNotFoundException,
    );
    simulator.injectFault({ kind: "InternalServerException", remaining: 1 });
    await assert.rejects(client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id })), (e: unknown) => {
      assert.ok(e instanceof InternalServerException);
      assert.equal(e.$metadata.httpStatusCode, 500);
      return true;
    });
    simulator.injectFault({ kind: "TooManyRequestsException", remaining: 1 });
    await assert.rejects(client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id })), TooManyRequestsException);
    simulator.injectFault({ kind: "ThrottlingException", remaining: 1 });
    await assert.rejects(client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id })), {
      name: "ThrottlingException",
    });
  });

  it("retries a throttled call as the SDK's retry strategy does", async () => {
    const retrying = new AthenaClient({
      region: "us-east-1",
      endpoint,
      credentials: TEST_CREDENTIALS,
      maxAttempts: 3,
    });
    simulator.resetCalls();
    simulator.injectFault({ kind: "ThrottlingException", remaining: 2 });
    const out = await retrying.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id }));
    retrying.destroy();
    assert.equal(out.Status?.State, "FAILED");
    assert.equal(simulator.calls("GetCalculationExecution", failed.id), 3);
  });

  it("counts calls per operation and resource, and records the signing key ID", async () => {
    simulator.resetCalls();
    await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.equal(simulator.calls("GetSession"), 1);
    assert.equal(simulator.calls("GetSession", session.id), 1);
    assert.equal(simulator.calls("GetCalculationExecution"), 0);
    assert.ok(simulator.accessKeyIds().includes(TEST_CREDENTIALS.accessKeyId));
  });

  it("answers a raw-answer fault with exactly the given value as JSON, HTTP 200 and the AWS JSON 1.1 content type", async () => {
    simulator.injectFault({
      kind: "raw-answer",
      operation: "GetCalculationExecution",
      resourceId: failed.id,
      remaining: 1,
      body: { a: Infinity, b: -Infinity, c: NaN, d: undefined, e: [undefined, 1.5, "x"], f: { g: null } },
    });
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonAthena.GetCalculationExecution" },
      body: JSON.stringify({ CalculationExecutionId: failed.id }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-amz-json-1.1");
    assert.equal(
      await res.text(),
      '{"a":1e999,"b":-1e999,"c":null,"e":[null,1.5,"x"],"f":{"g":null}}',
      "infinities as literals that parse back to them",
    );

    simulator.injectFault({
      kind: "raw-answer",
      operation: "GetCalculationExecution",
      resourceId: failed.id,
      remaining: 1,
      body: {
        CalculationExecutionId: "someone-else",
        SessionId: "s".repeat(10_000),
        Description: 42,
        Statistics: { DpuExecutionInMillis: Infinity },
      },
    });
    const out = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id }));
    assert.equal(out.CalculationExecutionId, "someone-else");
    assert.equal(out.SessionId?.length, 10_000);
    assert.equal(out.Description, 42, "the SDK hands a wrong type over as it came");
    assert.equal(out.Statistics?.DpuExecutionInMillis, Infinity);
    assert.equal(out.Status, undefined);
    const real = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id }));
    assert.equal(real.Description, "job", "a fault with remaining: 1 answers once");
  });

  it("answers an override-fields fault with the real answer, fields merged in: nested objects key by key, undefined removes a field", async () => {
    simulator.injectFault({
      kind: "override-fields",
      operation: "GetCalculationExecution",
      resourceId: failed.id,
      remaining: 1,
      fields: {
        Description: 42,
        WorkingDirectory: { nested: [true] },
        Status: { State: "HIBERNATING", CompletionDateTime: undefined },
        Statistics: { DpuExecutionInMillis: 1e308 },
      },
    });
    const session2 = await client.send(new GetSessionCommand({ SessionId: session.id }));
    assert.equal(session2.WorkGroup, "spark-wg", "other operations are not hit, nor is the fault spent");
    const out = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: failed.id }));
    assert.equal(out.CalculationExecutionId, failed.id);
    assert.equal(out.SessionId, session.id);
    assert.equal(out.Description, 42);
    assert.deepEqual(out.WorkingDirectory, { nested: [true] });
    assert.equal(out.Status?.State, "HIBERNATING");
    assert.equal(out.Status.StateChangeReason, "boom", "the rest of Status is kept");
    assert.deepEqual(out.Status.SubmissionDateTime, new Date(1_700_000_000_250));
    assert.equal(out.Status.CompletionDateTime, undefined, "undefined removes a field");
    assert.equal(out.Statistics?.DpuExecutionInMillis, 1e308);
    assert.equal(out.Statistics.Progress, "100%", "the rest of Statistics is kept");
    assert.equal(out.Result?.ResultType, "TEXT");

    const missing = "00000000-0000-4000-8000-000000000000";
    simulator.injectFault({ kind: "override-fields", resourceId: missing, fields: { Description: 42 } });
    await assert.rejects(
      client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: missing })),
      ResourceNotFoundException,
      "errors pass through",
    );
    simulator.faults.clear();
  });

  it("answers an unknown X-Amz-Target with UnknownOperationException", async () => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonAthena.DeleteEverything" },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { __type: string }).__type, "UnknownOperationException");
  });
});
