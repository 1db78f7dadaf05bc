import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { startServer, type RunningServer } from "../../../src/http/start-server.js";
import { formatConfigError } from "../../../src/config/config-file.js";
import { loadWebConfig, type WebConfig } from "../../../src/config/web-config.js";
import { memoryLogger, requireBinary, testConfig, testDeps } from "../../helpers.js";

const PASSWORD = "correct horse battery staple";

function selfSignedCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    requireBinary("openssl"),
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

function get(url: string, options: { ca?: Buffer; auth?: string; cert?: Buffer; key?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        headers: options.auth === undefined ? {} : { Authorization: `Basic ${Buffer.from(options.auth).toString("base64")}` },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("web config: TLS and basic auth", () => {
  let dir = "";
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-web-"));
    server = selfSignedCert(dir, "server");
    client = selfSignedCert(dir, "client");
  });
  after(async () => {
    await rm(dir, { recursive: true });
  });

  async function webConfig(yaml: string): Promise<WebConfig> {
    const file = join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
    await writeFile(file, yaml);
    const loaded = await loadWebConfig(file);
    if (!loaded.ok) assert.fail(formatConfigError(loaded.error));
    return loaded.value;
  }

  async function start(web: WebConfig): Promise<{ running: RunningServer; logs: () => Record<string, unknown>[] }> {
    const { logger, lines } = memoryLogger();
    const running = await startServer(testConfig("calculations: []"), { host: "127.0.0.1", port: 0 }, { deps: testDeps(logger), web });
    return { running, logs: lines };
  }

  it("serves /metrics over TLS, and refuses plain HTTP on that port", async () => {
    const { running } = await start(await webConfig(`tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n`));
    try {
      assert.match(running.url, /^https:/);
      const ca = await readFile(server.cert);
      const res = await get(`${running.url}/metrics`, { ca });
      assert.equal(res.status, 200);
      assert.match(res.body, /athena_exporter_build_info/);
      const plain = await fetch(running.url.replace("https:", "http:") + "/metrics").then(
        (r) => r.status,
        () => "refused",
      );
      assert.notEqual(plain, 200);
    } finally {
      await running.close();
    }
  });

  it("requires a verified client certificate with RequireAndVerifyClientCert", async () => {
    const { running } = await start(
      await webConfig(
        `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client.crt\n`,
      ),
    );
    try {
      const ca = await readFile(server.cert);
      await assert.rejects(get(`${running.url}/metrics`, { ca }));
      const res = await get(`${running.url}/metrics`, { ca, cert: await readFile(client.cert), key: await readFile(client.key) });
      assert.equal(res.status, 200);
    } finally {
      await running.close();
    }
  });

  it("asks for basic auth, refuses wrong users and passwords, accepts the right one, and never logs it", async () => {
    const hash = bcrypt.hashSync(PASSWORD, 4);
    const { running, logs } = await start(
      await webConfig(`tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: "${hash}"\n`),
    );
    try {
      const ca = await readFile(server.cert);
      const none = await get(`${running.url}/metrics`, { ca });
      assert.equal(none.status, 401);
      assert.match(String(none.headers["www-authenticate"]), /^Basic realm=/);
      assert.equal((await get(`${running.url}/metrics`, { ca, auth: "prometheus:wrong" })).status, 401);
      assert.equal((await get(`${running.url}/metrics`, { ca, auth: `intruder:${PASSWORD}` })).status, 401);
      assert.equal((await get(`${running.url}/`, { ca })).status, 401, "the status page is protected");
      assert.equal((await get(`${running.url}/-/healthy`, { ca })).status, 200, "health checks carry no credentials");
      const ok = await get(`${running.url}/metrics`, { ca, auth: `prometheus:${PASSWORD}` });
      assert.equal(ok.status, 200);
      assert.equal(
        (await get(`${running.url}/metrics`, { ca, auth: `prometheus:${PASSWORD}` })).status,
        200,
        "a remembered pair still passes",
      );
      const everything = JSON.stringify(logs()) + ok.body;
      assert.ok(!everything.includes(PASSWORD), "the password appears in logs or metrics");
      assert.ok(!everything.includes(hash), "the hash appears in logs or metrics");
    } finally {
      await running.close();
    }
  });

  it("never shows a value of the file in its messages: a password given in place of its hash stays unsaid", async () => {
    const file = join(dir, "plain.yml");
    await writeFile(file, "basic_auth_users:\n  alice: hunter2\n  bob: 12345\n");
    const loaded = await loadWebConfig(file);
    if (loaded.ok) assert.fail("accepted");
    const text = formatConfigError(loaded.error);
    assert.match(text, /basic_auth_users\.bob: expected a string, got a number/);
    assert.ok(!text.includes("hunter2") && !text.includes("12345"), text);
  });

  const bad: [string, string, RegExp][] = [
    ["an unknown setting", "http_server_config:\n  http2: false\n", /http_server_config: not supported by this exporter/],
    ["a plain-text password", "basic_auth_users:\n  alice: hunter2\n", /basic_auth_users\.alice: must be a bcrypt hash/],
    [
      "a missing certificate",
      "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
      /tls_server_config\.cert_file: cannot read nope\.crt: ENOENT/,
    ],
    [
      "client verification without a CA",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n",
      /client_ca_file: required with client_auth_type RequireAndVerifyClientCert/,
    ],
    [
      "an unknown TLS version",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: SSL3\n",
      /tls_server_config\.min_version/,
    ],
  ];
  for (const [what, yaml, message] of bad) {
    it(`refuses ${what}, naming the file and the key`, async () => {
      const file = join(dir, "bad.yml");
      await writeFile(file, yaml);
      const loaded = await loadWebConfig(file);
      if (loaded.ok) assert.fail("accepted");
      const text = formatConfigError(loaded.error);
      assert.ok(text.startsWith(`${file}: `), text);
      assert.match(text, message);
    });
  }
});
