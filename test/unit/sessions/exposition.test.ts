import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { gzipBody, identityBody } from "../../../src/exposition/gzip-body.js";
import type { SessionEntry } from "../../../src/sessions/cache.js";
import { SessionExposition, type SessionSources } from "../../../src/sessions/exposition.js";
import type { Session } from "../../../src/sessions/session.js";
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

const entry = (s: Session, refreshedAt: number): SessionEntry => ({ session: s, refreshedAt, error: undefined });

describe("the exposition of sessions", () => {
  const ids = ["sess-1"];
  // The same objects on every call, as a target passes them between reloads.
  const nothingHidden: ReadonlySet<string> = new Set();
  const none: readonly never[] = [];
  const sources = (entries: Map<string, SessionEntry>, hidden = nothingHidden): SessionSources => ({
    ids,
    peek: (id) => entries.get(id),
    workgroups: none,
    tagKeys: none,
    price: 0.35,
    hidden,
  });
  const text = (exposition: SessionExposition, s: SessionSources): string =>
    Buffer.concat(identityBody([exposition.render(s)])).toString("utf8");

  it("shows what a refresh brought, compressed or not", async () => {
    const exposition = new SessionExposition();
    const entries = new Map([["sess-1", entry(session("BUSY", 60), 1_700_000_010)]]);
    const busy = text(exposition, sources(entries));
    assert.equal(valueOf(busy, "athena_session_state", { session_id: "sess-1", state: "BUSY" }), 1);
    await gzipBody([exposition.render(sources(entries))]);
    entries.set("sess-1", entry(session("IDLE", 90), 1_700_000_040));
    const idle = exposition.render(sources(entries));
    const shown = Buffer.concat(identityBody([idle])).toString("utf8");
    assert.equal(valueOf(shown, "athena_session_state", { session_id: "sess-1", state: "IDLE" }), 1);
    assert.equal(valueOf(shown, "athena_session_dpu_execution_seconds", { session_id: "sess-1" }), 90);
    assert.equal(gunzipSync(Buffer.concat(await gzipBody([idle]))).toString("utf8"), shown);
  });

  it("is the same text, compressed once, while nothing changed", async () => {
    const exposition = new SessionExposition();
    const entries = new Map([["sess-1", entry(session("BUSY", 60), 1_700_000_010)]]);
    const first = exposition.render(sources(entries));
    const second = exposition.render(sources(entries));
    assert.equal(second, first);
    assert.equal((await second.gzip())[0], (await first.gzip())[0]);
  });

  it("follows metrics.allow / metrics.deny as they change", () => {
    const exposition = new SessionExposition();
    const entries = new Map([["sess-1", entry(session("BUSY", 60), 1_700_000_010)]]);
    const denied = text(exposition, sources(entries, new Set(["athena_session_state"])));
    assert.ok(!denied.includes("athena_session_state{"));
    assert.ok(text(exposition, sources(entries)).includes("athena_session_state{"));
  });
});
