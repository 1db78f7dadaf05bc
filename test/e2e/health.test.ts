import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { DockerfileParser } from "dockerfile-ast";
import { parse } from "yaml";
import { formatConfigError } from "../../src/config/config-file.js";
import { loadWebConfig } from "../../src/config/web-config.js";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { memoryLogger, requireBinary, testConfig, testDeps } from "../helpers.js";

const PASSWORD = "health-test-password";

/** The Dockerfile's HEALTHCHECK command, as exec-form arguments. */
async function healthcheckCommand(): Promise<string[]> {
  const dockerfile = DockerfileParser.parse(await readFile("Dockerfile", "utf8"));
  const health = dockerfile.getInstructions().find((i) => i.getKeyword() === "HEALTHCHECK");
  const args = health?.getArgumentsContent() ?? "";
  const cmd = /\bCMD\s+(\[.*\])\s*$/.exec(args)?.[1];
  assert.ok(cmd !== undefined, `HEALTHCHECK is not in exec form: ${args}`);
  return JSON.parse(cmd) as string[]; // exec form is a JSON array
}

/** Runs the image's health check as a process against `port`: the built file's source, through tsx, since tests do not build. */
async function runHealthcheck(port: number): Promise<{ code: number | null; stderr: string }> {
  const [command, script, ...rest] = await healthcheckCommand();
  assert.equal(command, "node");
  assert.match(script ?? "", /^dist\/.*\.js$/);
  const source = (script ?? "").replace(/^dist\//, "src/").replace(/\.js$/, ".ts");
  const child = spawn(process.execPath, ["--import", "tsx", source, ...rest, `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stderr };
}

/** An HTTPS GET that trusts any certificate, as the kubelet's HTTPS probes do. */
function probe(url: string, auth?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = auth === undefined ? {} : { Authorization: `Basic ${Buffer.from(auth).toString("base64")}` };
    const req = httpsRequest(url, { rejectUnauthorized: false, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

function portOf(running: RunningServer): number {
  return Number(new URL(running.url).port);
}

describe("health behind TLS and basic auth", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-health-"));
    execFileSync(
      requireBinary("openssl"),
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=exporter"].concat(
        ["-keyout", join(dir, "server.key"), "-out", join(dir, "server.crt")],
      ),
      { stdio: "ignore" },
    );
  });
  after(() => rm(dir, { recursive: true }));

  async function startWith(webYaml: string | undefined): Promise<RunningServer> {
    let web;
    if (webYaml !== undefined) {
      await writeFile(join(dir, "web.yml"), webYaml);
      const loaded = await loadWebConfig(join(dir, "web.yml"));
      if (!loaded.ok) assert.fail(formatConfigError(loaded.error));
      web = loaded.value;
    }
    const running = await startServer(
      testConfig("calculations: []"),
      { host: "127.0.0.1", port: 0 },
      {
        deps: testDeps(memoryLogger().logger),
        ...(web === undefined ? {} : { web }),
      },
    );
    return running;
  }

  it("the image's health check and the StatefulSet's probe paths pass with TLS + basic auth, while /metrics needs auth", async (t) => {
    const hash = bcrypt.hashSync(PASSWORD, 4);
    const running = await startWith(
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: "${hash}"\n`,
    );
    t.after(() => running.close());
    assert.match(running.url, /^https:/);

    const checked = await runHealthcheck(portOf(running));
    assert.equal(checked.code, 0, `the health check failed: ${checked.stderr}`);

    const set = parse(await readFile("deploy/kubernetes/statefulset.yaml", "utf8")) as {
      spec: {
        template: {
          spec: { containers: { livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } } }[] };
        };
      };
    };
    const container = set.spec.template.spec.containers[0];
    assert.ok(container);
    for (const path of [container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path]) {
      assert.equal(await probe(`${running.url}${path}`), 200, `probe ${path} without credentials`);
    }
    assert.equal(await probe(`${running.url}/metrics`), 401, "/metrics without credentials");
    assert.equal(await probe(`${running.url}/`), 401, "the status page without credentials");
    assert.equal(await probe(`${running.url}/metrics`, `prometheus:${PASSWORD}`), 200);
  });

  it("the image's health check passes on plain HTTP too, and fails when nothing listens", async () => {
    const running = await startWith(undefined);
    const port = portOf(running);
    try {
      const checked = await runHealthcheck(port);
      assert.equal(checked.code, 0, `the health check failed: ${checked.stderr}`);
    } finally {
      await running.close();
    }
    const down = await runHealthcheck(port);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ECONNREFUSED/);
  });
});
