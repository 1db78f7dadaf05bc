import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Reloader } from "../../../src/http/reloader.js";
import { ok } from "../../../src/result.js";
import { ProcessMetrics } from "../../../src/self-metrics.js";
import { testConfig } from "../../helpers.js";

describe("the reloader", () => {
  it("applies two overlapping reloads in the order they were asked for, though the first read finishes last", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const first = testConfig(`calculations: [${a}]`);
    const second = testConfig(`calculations: [${b}]`);
    // The first read (SIGHUP, say) is slow; the second (POST /-/reload) answers at once with the newer file.
    const reads = [() => new Promise<typeof first>((resolve) => setTimeout(() => resolve(first), 100)), () => Promise.resolve(second)];
    const applied: string[][] = [];
    const metrics = new ProcessMetrics();
    try {
      const reloader = new Reloader(
        { name: "config.yaml", read: async () => ok(await (reads.shift() ?? (() => Promise.resolve(second)))()) },
        (config) => applied.push([...config.calculations]),
        metrics,
        pino({ level: "silent" }),
      );
      const answers = await Promise.all([reloader.reload(), reloader.reload()]);
      assert.deepEqual(
        answers.map((a) => a.ok),
        [true, true],
      );
      assert.deepEqual(applied, [[a], [b]], "the newer file is the one in force");
      const text = await metrics.registry.metrics();
      assert.match(text, /^athena_exporter_config_last_reload_successful 1$/m);
    } finally {
      metrics.close();
    }
  });
});
