import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { gzipBody } from "../../../src/exposition/gzip-body.js";
import { bodyBytes } from "../../body-text.js";
import type { SessionEntry } from "../../../src/sessions/cache.js";
import { SessionExposition } from "../../../src/sessions/exposition.js";
import type { Session } from "../../../src/athena/session.js";
import { valueOf } from "../../helpers.js";

function session(state: Session["state"], dpu: number): Session {
  return {
    id: "sess-1",
    workgroup: "wg",
    description: "",
    engineVersion: "PySpark engine version 3",
    state,
    stateChangeReason: "",
    startedAt: 1_700_000_000,
    lastModifiedAt: 1_700_000_000,
    endedAt: undefined,
    idleSince: undefined,
    dpuExecutionSeconds: dpu,
    coordinatorDpuSize: 1,
    defaultExecutorDpuSize: 1,
    maxConcurrentDpus: 20,
    idleTimeoutSeconds: 900,
    executionRole: "arn:aws:iam::123456789012:role/etl",
    notebookVersion: "Athena notebook version 1",
  };
}

const entry = (s: Session, refreshedAt: number): SessionEntry => ({
  value: s,
  refreshedAt,
  error: undefined,
  failingSince: undefined,
  settled: false,
});

const NONE: ReadonlySet<string> = new Set();
const text = (exposition: SessionExposition, hidden = NONE): string => bodyBytes(exposition.parts(hidden)).toString("utf8");

describe("the exposition of sessions", () => {
  it("shows what a refresh brought, compressed or not", async () => {
    const exposition = new SessionExposition();
    exposition.show("sess-1", entry(session("BUSY", 60), 1_700_000_010));
    assert.equal(valueOf(text(exposition), "athena_session_state", { session_id: "sess-1", state: "BUSY" }), 1);
    await gzipBody(exposition.parts(NONE));
    exposition.show("sess-1", entry(session("IDLE", 90), 1_700_000_040));
    const shown = text(exposition);
    assert.equal(valueOf(shown, "athena_session_state", { session_id: "sess-1", state: "IDLE" }), 1);
    assert.equal(valueOf(shown, "athena_session_dpu_execution_seconds", { session_id: "sess-1" }), 90);
    assert.equal(gunzipSync(Buffer.concat(await gzipBody(exposition.parts(NONE)))).toString("utf8"), shown);
  });

  it("shows a session Athena has not answered for as up 0, and nothing of one dropped", () => {
    const exposition = new SessionExposition();
    exposition.show("sess-1", undefined);
    assert.equal(valueOf(text(exposition), "athena_session_up", { session_id: "sess-1" }), 0);
    assert.equal(valueOf(text(exposition), "athena_session_refresh_error_info", { session_id: "sess-1", error: "Pending" }), 1);
    exposition.drop("sess-1");
    assert.ok(!text(exposition).includes("sess-1"));
  });

  it("shows the workgroups and the price it was last given", () => {
    const exposition = new SessionExposition();
    exposition.setPrice(0.35);
    exposition.setWorkgroups(
      [{ name: "wg", enabled: true, state: "ENABLED", engine: "PySpark engine version 3", tags: new Map([["team", "data"]]) }],
      ["team"],
    );
    assert.equal(valueOf(text(exposition), "athena_dpu_hour_price_usd", {}), 0.35);
    assert.equal(valueOf(text(exposition), "athena_workgroup_tags", { workgroup: "wg", tag_team: "data" }), 1);
    exposition.setPrice(0.5);
    exposition.setWorkgroups([], ["team"]);
    assert.equal(valueOf(text(exposition), "athena_dpu_hour_price_usd", {}), 0.5);
    assert.ok(!text(exposition).includes("athena_workgroup"));
  });

  it("follows metrics.allow / metrics.deny as they change", () => {
    const exposition = new SessionExposition();
    exposition.show("sess-1", entry(session("BUSY", 60), 1_700_000_010));
    assert.ok(!text(exposition, new Set(["athena_session_state"])).includes("athena_session_state{"));
    assert.ok(text(exposition).includes("athena_session_state{"));
  });
});
