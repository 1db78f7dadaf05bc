import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { startServer, type ConfigSource } from "../../../src/http/start-server.js";
import { ok } from "../../../src/result.js";
import { memoryLogger, testConfig, testDeps } from "../../helpers.js";

describe("reloads", () => {
  it("apply in the order they were asked for, though the first read finishes last", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const yaml = (id: string): string => `aws: {region: us-east-1, endpoint: "http://127.0.0.1:9"}\ncalculations: [${id}]`;
    // The first read (SIGHUP, say) is slow; the second (POST /-/reload) answers at once with the newer file.
    const reads = [() => new Promise<string>((resolve) => setTimeout(() => resolve(yaml(a)), 100)), () => Promise.resolve(yaml(b))];
    const source: ConfigSource = {
      name: "config.yaml",
      read: async () => ok(testConfig(await (reads.shift() ?? (() => Promise.resolve(yaml(b))))())),
    };
    const running = await startServer(
      testConfig(yaml(a)),
      { host: "127.0.0.1", port: 0 },
      {
        deps: testDeps(memoryLogger().logger),
        configSource: source,
      },
    );
    try {
      const answers = await Promise.all([running.reload(), running.reload()]);
      assert.deepEqual(
        answers.map((r) => r.ok),
        [true, true],
      );
      const text = await (await fetch(`${running.url}/metrics`)).text();
      assert.match(text, new RegExp(`calculation_execution_id="${b}"`), "the newer file is the one in force");
      assert.doesNotMatch(text, new RegExp(`calculation_execution_id="${a}"`));
    } finally {
      await running.close();
    }
  });
});
