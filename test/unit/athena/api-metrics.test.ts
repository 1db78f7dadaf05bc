import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiMetrics } from "../../../src/athena/api-metrics.js";
import { valueOf } from "../../helpers.js";

const textOf = (metrics: ApiMetrics): Promise<string> => metrics.text();

describe("ApiMetrics", () => {
  it("shows every change at the next scrape: a call, its end, a failure, a throttled attempt", async () => {
    const metrics = new ApiMetrics();
    metrics.initialise(["GetSession"], ["ThrottlingException"]);
    const failures = { operation: "GetSession", error: "ThrottlingException" };
    assert.equal(valueOf(await textOf(metrics), "athena_exporter_api_request_failures_total", failures), 0);

    const stop = metrics.started("GetSession");
    assert.equal(valueOf(await textOf(metrics), "athena_exporter_api_requests_total", { operation: "GetSession" }), 1);
    // A call under way has no duration yet.
    assert.equal(
      valueOf(await textOf(metrics), "athena_exporter_api_request_duration_seconds_count", { operation: "GetSession" }),
      undefined,
    );
    stop();
    assert.equal(valueOf(await textOf(metrics), "athena_exporter_api_request_duration_seconds_count", { operation: "GetSession" }), 1);

    metrics.failed("GetSession", "ThrottlingException");
    assert.equal(valueOf(await textOf(metrics), "athena_exporter_api_request_failures_total", failures), 1);
    metrics.throttled("GetSession");
    assert.equal(valueOf(await textOf(metrics), "athena_exporter_api_throttled_attempts_total", { operation: "GetSession" }), 1);
  });
});
