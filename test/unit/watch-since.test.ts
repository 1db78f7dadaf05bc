import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DiscoveryConfig } from "../../src/config/config.js";
import { WatchSince } from "../../src/watch-since.js";

const discovery = (workgroups: DiscoveryConfig["workgroups"]): DiscoveryConfig => ({
  workgroups,
  intervalMs: 60_000,
  lookbackMs: 86_400_000,
  retentionMs: 21_600_000,
  workgroupTags: [],
});

describe("since when things are watched", () => {
  it("keeps each workgroup's and ID's first time while it stays watched, and starts what a reload adds at the reload", () => {
    const named = discovery(["a"]);
    const since = new WatchSince(["id-1"], named, 100);
    assert.equal(since.calculation("id-1", undefined), 100);
    assert.equal(since.calculation("x", "a"), 100);

    const widened = discovery(["a", "b"]);
    since.update(["id-1", "id-2"], named, widened, 200);
    assert.deepEqual([since.calculation("x", "a"), since.calculation("x", "b"), since.calculation("id-2", undefined)], [100, 200, 200]);

    // `all` keeps the named ones' times and covers every other workgroup from now.
    const all = discovery("all");
    since.update(["id-1", "id-2"], widened, all, 300);
    assert.deepEqual([since.calculation("x", "a"), since.calculation("x", "b"), since.calculation("x", "c")], [100, 200, 300]);

    // Back to names: one `all` covered was watched since `all` began.
    since.update(["id-1"], all, discovery(["a", "c"]), 400);
    assert.deepEqual([since.calculation("x", "a"), since.calculation("x", "c")], [100, 300]);
    // A workgroup no longer watched, and an ID no longer listed, count from the start if they are seen at all.
    assert.equal(since.calculation("x", "b"), 100);
    since.update(["id-1", "id-2"], discovery(["a", "c"]), discovery(["a", "c"]), 500);
    assert.equal(since.calculation("id-2", undefined), 500, "an ID listed again is watched from then");
    assert.equal(since.session("c", ["id-1"]), 100, "a session is watched since the earliest of its workgroup and its listed calculations");
  });
});
