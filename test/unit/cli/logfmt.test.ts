import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../../src/cli/logger.js";
import { logfmtValue, toLogfmt } from "../../../src/cli/logfmt.js";

describe("logfmt", () => {
  it("writes ts, level and msg first, then the other keys in order", () => {
    const line = toLogfmt({ level: "info", time: "2026-01-02T03:04:05.000Z", service: "x", msg: "exporter listening", n: 3, ok: true });
    assert.equal(line, 'ts=2026-01-02T03:04:05.000Z level=info msg="exporter listening" service=x n=3 ok=true');
  });

  it("quotes values with spaces, quotes, equals signs, backslashes or newlines, and the empty value", () => {
    assert.equal(logfmtValue("plain"), "plain");
    assert.equal(logfmtValue(""), '""');
    assert.equal(logfmtValue("two words"), '"two words"');
    assert.equal(logfmtValue('say "hi"'), '"say \\"hi\\""');
    assert.equal(logfmtValue("a=b"), '"a=b"');
    assert.equal(logfmtValue("C:\\dir"), '"C:\\\\dir"');
    assert.equal(logfmtValue("line1\nline2\ttab"), '"line1\\nline2\\ttab"');
    assert.equal(logfmtValue("\u0007bell"), '"\\u0007bell"');
  });

  it("writes objects and arrays as quoted JSON and null as null", () => {
    assert.equal(logfmtValue(["a", "b"]), '"[\\"a\\",\\"b\\"]"');
    assert.equal(logfmtValue({ code: "Throttling" }), '"{\\"code\\":\\"Throttling\\"}"');
    assert.equal(logfmtValue(null), "null");
  });

  it("is what createLogger writes with format logfmt, one line a record, secrets still redacted", () => {
    const out: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger("debug", sink, "logfmt");
    logger.info({ workgroup: "my wg", credentials: { secretAccessKey: "s3cret" } }, "multi\nline");
    logger.debug("second");
    const lines = out.join("").split("\n");
    assert.equal(lines.length, 3, out.join(""));
    assert.match(
      lines[0] ?? "",
      /^ts=\S+ level=info msg="multi\\nline" service=athena-calculation-exporter workgroup="my wg" credentials=\[redacted\]$/,
    );
    assert.match(lines[1] ?? "", /^ts=\S+ level=debug msg=second service=athena-calculation-exporter$/);
    assert.ok(!out.join("").includes("s3cret"));
  });
});
