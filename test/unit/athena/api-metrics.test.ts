import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateRawSync } from "node:zlib";
import { ApiMetrics } from "../../../src/athena/api-metrics.js";
import type { Precompressed } from "../../../src/exposition/gzip-body.js";
import { valueOf } from "../../helpers.js";

const textOf = async (metrics: ApiMetrics): Promise<string> => (await metrics.text()).text.map((b) => b.toString("utf8")).join("");
const inflated = async (part: Precompressed): Promise<string> =>
  inflateRawSync(Buffer.concat([...(await part.gzip()).map((piece) => piece.data), Buffer.from([0x03, 0x00])])).toString("utf8");

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

  it("hands the same text, and its deflate piece, to scrapes between changes", async () => {
    const metrics = new ApiMetrics();
    metrics.initialise(["GetCalculationExecution"], ["Timeout"]);
    const first = await metrics.text();
    assert.equal(await metrics.text(), first);
    assert.equal(await first.gzip(), await first.gzip());
    assert.equal(await inflated(first), await textOf(metrics));

    metrics.failed("GetCalculationExecution", "Timeout");
    const second = await metrics.text();
    assert.notEqual(second, first);
    assert.equal(
      valueOf(await inflated(second), "athena_exporter_api_request_failures_total", {
        operation: "GetCalculationExecution",
        error: "Timeout",
      }),
      1,
    );
  });
});
