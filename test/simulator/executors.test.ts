import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { AthenaClient, InvalidRequestException, ListExecutorsCommand, ResourceNotFoundException } from "@aws-sdk/client-athena";
import { AthenaSimulator } from "../../simulator/server.js";
import { TEST_CREDENTIALS } from "../helpers.js";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

describe("Athena simulator ListExecutors, through the real AWS SDK", () => {
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
    for (const id of [...state.sessions.keys()]) state.forgetSession(id);
  });

  it("lists a new session's coordinator, with its size, start as epoch milliseconds and no end", async () => {
    const session = state.addSession("wg", { coordinatorDpuSize: 1, startedAtMs: T0 - MINUTE });
    const out = await client.send(new ListExecutorsCommand({ SessionId: session.id }));
    assert.equal(out.SessionId, session.id);
    assert.equal(out.ExecutorsSummary?.length, 1);
    assert.deepEqual(
      out.ExecutorsSummary.map((e) => [e.ExecutorType, e.ExecutorState, e.ExecutorSize, e.StartDateTime, e.TerminationDateTime]),
      [["COORDINATOR", "REGISTERED", 1, T0 - MINUTE, undefined]],
    );
  });

  it("lists executors newest first, pages with NextToken, and filters by ExecutorStateFilter", async () => {
    const session = state.addSession("wg", { startedAtMs: T0 - 10 * MINUTE });
    const workers = Array.from({ length: 5 }, (_, i) => state.executors.add(session.id, { startedAtMs: T0 - (9 - i) * MINUTE }));
    state.executors.setState(workers[1]?.id ?? "", "FAILED");
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListExecutorsCommand({ SessionId: session.id, MaxResults: 2, NextToken: token }));
      ids.push(...(page.ExecutorsSummary ?? []).map((e) => e.ExecutorId ?? ""));
      token = page.NextToken;
      pages++;
    } while (token !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(ids.slice(0, 5), workers.map((w) => w.id).reverse());
    assert.equal(ids.length, 6, "five workers and the coordinator, last as the oldest");

    const failed = await client.send(new ListExecutorsCommand({ SessionId: session.id, ExecutorStateFilter: "FAILED" }));
    assert.deepEqual(
      failed.ExecutorsSummary?.map((e) => [e.ExecutorId, e.ExecutorState, e.TerminationDateTime]),
      [[workers[1]?.id, "FAILED", T0]],
    );
  });

  it("shows an executor only once it has started, moves it along its schedule, and ends the rest with the session", async () => {
    const session = state.addSession("wg", { startedAtMs: T0 });
    const worker = state.executors.add(session.id, {
      startedAtMs: T0 + MINUTE,
      state: "CREATING",
      schedule: [
        { atMs: T0 + 2 * MINUTE, state: "REGISTERED" },
        { atMs: T0 + 3 * MINUTE, state: "FAILED" },
      ],
    });
    const list = async () => (await client.send(new ListExecutorsCommand({ SessionId: session.id }))).ExecutorsSummary ?? [];
    assert.deepEqual(
      (await list()).map((e) => e.ExecutorType),
      ["COORDINATOR"],
    );
    now = T0 + 2 * MINUTE;
    assert.deepEqual(
      (await list()).map((e) => [e.ExecutorId, e.ExecutorState]),
      [
        [worker.id, "REGISTERED"],
        [(await list())[1]?.ExecutorId, "REGISTERED"],
      ],
    );
    now = T0 + 4 * MINUTE;
    assert.equal((await list())[0]?.TerminationDateTime, T0 + 3 * MINUTE);
    assert.equal(state.executors.failures(), 1);
    now = T0 + 5 * MINUTE;
    state.terminateSession(session.id);
    assert.deepEqual(
      (await list()).map((e) => e.ExecutorState),
      ["FAILED", "TERMINATED"],
    );
    assert.equal((await list())[1]?.TerminationDateTime, T0 + 5 * MINUTE);
  });

  it("refuses an unknown session as not found, a malformed ID, a bad filter and MaxResults out of 1..100 as invalid", async () => {
    const session = state.addSession("wg");
    await assert.rejects(
      client.send(new ListExecutorsCommand({ SessionId: "5b1c3d4e-ffff-4a6b-8c9d-0e1f2a3b4cff" })),
      ResourceNotFoundException,
    );
    await assert.rejects(client.send(new ListExecutorsCommand({ SessionId: "not-a-session" })), InvalidRequestException);
    await assert.rejects(
      // The SDK types the filter; the wire takes any text, as a hostile caller could send.
      client.send(new ListExecutorsCommand({ SessionId: session.id, ExecutorStateFilter: "SLEEPING" as "FAILED" })),
      /Invalid ExecutorStateFilter/,
    );
    await assert.rejects(
      client.send(new ListExecutorsCommand({ SessionId: session.id, MaxResults: 101 })),
      /MaxResults must be between 1 and 100/,
    );
    await assert.rejects(client.send(new ListExecutorsCommand({ SessionId: session.id, MaxResults: 0 })), InvalidRequestException);
  });
});
