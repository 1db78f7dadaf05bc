import assert from "node:assert/strict";
import { request } from "node:http";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { startServer } from "../../../src/http/start-server.js";
import { createLogger } from "../../../src/cli/logger.js";
import { startStack, testConfig, testDeps } from "../../helpers.js";

function raw(url: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("hostile HTTP requests", () => {
  it("answers huge URLs and headers with an error status and keeps serving", async () => {
    const stack = await startStack(() => ({ calculations: [] }));
    try {
      const url = stack.server.url;
      assert.equal(await raw(url, `/metrics?${"x".repeat(20_000)}`), 431);
      assert.equal(await raw(url, "/metrics", { "X-Padding": "y".repeat(20_000) }), 431);
      assert.equal(await raw(url, `/${"a/".repeat(2000)}`), 404);
      for (const method of ["DELETE", "PATCH", "OPTIONS"]) assert.equal(await raw(url, "/metrics", {}, method), 405);
      assert.equal(await raw(url, "/metrics"), 200);
    } finally {
      await stack.stop();
    }
  });
});

describe("secrets", () => {
  it("never show a credential, session token or signature in logs, metrics or pages", async () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYKNOWNFAKESECRET";
    const token = "IQoJb3JpZ2luX2VjEKNOWNFAKESESSIONTOKEN";
    const output: string[] = [];
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk: Buffer, _e, done) {
          output.push(chunk.toString());
          done();
        },
      }),
    );
    let calculations: string[] = [];
    const stack = await startStack((sim) => {
      const id = sim.state.addCalculation({ sessionId: sim.state.addSession("wg").id, state: "RUNNING" }).id;
      sim.injectFault({ kind: "ExpiredTokenException", resourceId: id });
      calculations = [id, "00000000-0000-4000-8000-000000000404"];
      return { calculations };
    });
    const running = await startServer(
      testConfig(`aws: {region: us-east-1, endpoint: "${stack.endpoint}", maxAttempts: 1}\ncalculations: [${calculations.join(",")}]`),
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(logger, { credentials: { accessKeyId: "AKIDKNOWNFAKEKEYID", secretAccessKey: secret, sessionToken: token } }) },
    );
    try {
      const pages = await Promise.all(
        ["/metrics", "/", "/-/healthy", "/-/ready"].map(async (p) => (await fetch(`${running.url}${p}`)).text()),
      );
      pages.push(await (await fetch(`${running.url}/-/reload`, { method: "POST" })).text());
      const everything = output.join("") + pages.join("");
      assert.ok(output.join("").includes("calculation refresh failed"), "the failure was logged");
      for (const needle of [secret, token, "AWS4-HMAC-SHA256", "Signature="]) {
        assert.ok(!everything.includes(needle), `${needle} leaked`);
      }
    } finally {
      await running.close();
      await stack.stop();
    }
  });
});
