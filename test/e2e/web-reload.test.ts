import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { loadWebConfig } from "../../src/config/web-config.js";
import { startServer, type RunningServer } from "../../src/http/start-server.js";
import { memoryLogger, requireBinary, testConfig, testDeps, valueOf, waitFor } from "../helpers.js";

// --web.config.file read again without a restart: on POST /-/reload (SIGHUP
// calls the same reload; test/e2e/reload.test.ts sends it to the program) and
// when one of its files changes. Clients run in bounded loops beside each
// change, over loopback, and count what they got.

const OLD = "old-password";
const NEW = "new-password";
// Cost 4: the fastest bcrypt allows, so that the loops measure the reload and not bcrypt.
const hash = (password: string): string => bcrypt.hashSync(password, 4);
const basic = (password: string, scheme = "Basic"): string => `${scheme} ${Buffer.from(`prometheus:${password}`).toString("base64")}`;

interface Client {
  readonly ca?: Buffer;
  readonly agent?: HttpAgent;
}

/** A request through http or https: the status, or the error's code when no answer came. */
function send(url: string, headers: Record<string, string>, client: Client = {}, method = "GET"): Promise<number | string> {
  return new Promise((resolve) => {
    const https = url.startsWith("https:");
    const options = {
      method,
      headers,
      ...(client.agent === undefined ? {} : { agent: client.agent }),
      ...(https ? { ca: client.ca } : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

const reloadAs = (running: RunningServer, password: string, client: Client = {}): Promise<number | string> =>
  send(`${running.url}/-/reload`, { Authorization: basic(password) }, client, "POST");

/** 200s, then (once the reload took) 401s only: what a client keeping the old password sees. */
function assertCutOff(got: readonly (number | string)[]): void {
  const first401 = got.indexOf(401);
  assert.ok(first401 > 0, `no 200 before the reload, or no 401 after it: ${JSON.stringify(count(got))}`);
  assert.deepEqual(count(got.slice(0, first401)), { 200: first401 });
  assert.deepEqual(count(got.slice(first401)), { 401: got.length - first401 });
}

/** Requests in a loop until `stop` says so, at most `max`: what each got, in order. */
async function loop(send: () => Promise<number | string>, stop: () => boolean, max = 2000): Promise<(number | string)[]> {
  const got: (number | string)[] = [];
  while (!stop() && got.length < max) got.push(await send());
  return got;
}

const count = (got: readonly (number | string)[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const g of got) counts[String(g)] = (counts[String(g)] ?? 0) + 1;
  return counts;
};

function makeCert(dir: string, name: string): void {
  execFileSync(
    requireBinary("openssl"),
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", `/CN=${name}`].concat([
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      join(dir, `${name}.crt`),
    ]),
    { stdio: "ignore" },
  );
}

/** The subject CN of the certificate the server presents to a new connection. */
function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(",") : (cn ?? ""));
    });
    socket.on("error", reject);
  });
}

/** Writes a file the way editors and secret mounts do: a new file renamed over the old. */
async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

describe("web config reload", () => {
  let dir = "";
  let file = "";
  const servers: RunningServer[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ace-web-reload-"));
    file = join(dir, "web.yml");
    makeCert(dir, "first");
    makeCert(dir, "second");
  });
  after(async () => {
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true });
  });

  async function start(yaml: string): Promise<{ running: RunningServer; logs: () => Record<string, unknown>[] }> {
    await writeFile(file, yaml);
    const loaded = await loadWebConfig(file);
    assert.ok(loaded.ok);
    const { logger, lines } = memoryLogger();
    const running = await startServer(
      testConfig("calculations: []"),
      { host: "127.0.0.1", port: 0 },
      { deps: testDeps(logger), web: loaded.value, webSource: { name: file, read: () => loadWebConfig(file) } },
    );
    servers.push(running);
    return { running, logs: lines };
  }

  const metric = async (running: RunningServer, password: string, name: string, client: Client = {}): Promise<number | undefined> => {
    return new Promise((resolve, reject) => {
      const https = running.url.startsWith("https:");
      const req = (https ? httpsRequest : httpRequest)(
        `${running.url}/metrics`,
        { headers: { Authorization: basic(password) }, ...(https ? { ca: client.ca } : {}) },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve(valueOf(body, name)));
        },
      );
      req.on("error", reject);
      req.end();
    });
  };

  it("rotates a password on reload under load: the new one never fails, the old one stops at the reload", async (t) => {
    const { running } = await start(`basic_auth_users:\n  prometheus: "${hash(OLD)}"\n`);
    const agent = new HttpAgent({ keepAlive: true });
    let done = false;
    t.after(() => (done = true)); // the loops end with the test, passed or failed
    // Prometheus's way: kept-alive connections, one scrape after another, through the reload.
    const oldClients = [0, 1].map(() =>
      loop(
        () => send(`${running.url}/metrics`, { Authorization: basic(OLD) }, { agent }),
        () => done,
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(file, `basic_auth_users:\n  prometheus: "${hash(NEW)}"\n`);
    assert.equal(await reloadAs(running, OLD), 200);
    const reloaded = Date.now();
    const newClients = [0, 1].map(() =>
      loop(
        () => send(`${running.url}/metrics`, { Authorization: basic(NEW) }, { agent }),
        () => Date.now() - reloaded > 1500,
      ),
    );
    const fresh = (await Promise.all(newClients)).flat();
    done = true;
    const old = await Promise.all(oldClients);
    agent.destroy();
    process.stdout.write(`# password rotation: new password ${JSON.stringify(count(fresh))}; old ${JSON.stringify(count(old.flat()))}\n`);
    assert.ok(fresh.length >= 20, `only ${fresh.length} requests with the new password`);
    assert.deepEqual(count(fresh), { 200: fresh.length }, "every request with the new password succeeds");
    for (const got of old) assertCutOff(got);
    assert.equal(await metric(running, NEW, "athena_exporter_config_last_reload_successful"), 1);
  });

  it("matches the Basic scheme in any case, as HTTP says", async () => {
    const { running } = await start(`basic_auth_users:\n  prometheus: "${hash(OLD)}"\n`);
    for (const scheme of ["Basic", "basic", "BASIC", "bAsIc"]) {
      assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(OLD, scheme) }), 200, scheme);
    }
    assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(OLD, "Bearer") }), 401);
    assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(NEW, "basic") }), 401);
  });

  it("reads the file again when it changes, without a reload, and says so in the log", async () => {
    const { running, logs } = await start(`basic_auth_users:\n  prometheus: "${hash(OLD)}"\n`);
    await replace(file, `basic_auth_users:\n  prometheus: "${hash(NEW)}"\n`);
    await waitFor(
      () => logs().some((l) => l.msg === "web config reloaded" && l.cause === "file changed"),
      10_000,
      "the changed file to be read",
    );
    assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(NEW) }), 200);
    assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(OLD) }), 401);
    // A user added, then removed: each change applies, and a removed user's remembered login is forgotten.
    await replace(file, `basic_auth_users:\n  prometheus: "${hash(NEW)}"\n  grafana: "${hash(OLD)}"\n`);
    const grafana = `Basic ${Buffer.from(`grafana:${OLD}`).toString("base64")}`;
    await waitFor(async () => (await send(`${running.url}/metrics`, { Authorization: grafana })) === 200, 10_000, "the user added");
    await replace(file, `basic_auth_users:\n  prometheus: "${hash(NEW)}"\n`);
    await waitFor(async () => (await send(`${running.url}/metrics`, { Authorization: grafana })) === 401, 10_000, "the user removed");
  });

  it("keeps the previous settings when the file is broken, and says why in the reload answer, the log and the metrics", async () => {
    const { running, logs } = await start(`basic_auth_users:\n  prometheus: "${hash(OLD)}"\n`);
    await writeFile(file, `basic_auth_users:\n  prometheus: ${NEW}\n`);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${running.url}/-/reload`, { method: "POST", headers: { Authorization: basic(OLD) } }, (r) => {
        let body = "";
        r.on("data", (d: Buffer) => (body += d.toString()));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(res.status, 500);
    assert.match(res.body, /basic_auth_users\.prometheus: must be a bcrypt hash/);
    assert.ok(!res.body.includes(NEW), "the plain-text password is never repeated");
    assert.equal(await send(`${running.url}/metrics`, { Authorization: basic(OLD) }), 200, "the previous users still apply");
    assert.equal(await metric(running, OLD, "athena_exporter_config_last_reload_successful"), 0);
    assert.equal(await metric(running, OLD, "athena_exporter_config_reload_failures_total"), 1);
    const logged = logs().find((l) => l.msg === "web config reload failed; the previous web configuration stays in use");
    assert.ok(logged !== undefined && logged.level === "error", JSON.stringify(logs()));
    assert.match(String(logged.reason), /must be a bcrypt hash/);
    assert.ok(!JSON.stringify(logs()).includes(NEW), "the plain-text password is never logged");
    // Fixed, and noticed as a change of the file: the gauge is back at 1.
    await replace(file, `basic_auth_users:\n  prometheus: "${hash(NEW)}"\n`);
    await waitFor(async () => (await send(`${running.url}/metrics`, { Authorization: basic(NEW) })) === 200, 10_000, "the fixed file");
    assert.equal(await metric(running, NEW, "athena_exporter_config_last_reload_successful"), 1);
  });

  it("rotates the certificate on reload under load: a client trusting only the new one never fails", async (t) => {
    const tls = (name: string): string => `tls_server_config:\n  cert_file: ${name}.crt\n  key_file: ${name}.key\n`;
    const { running } = await start(tls("first"));
    assert.match(running.url, /^https:/);
    const port = Number(new URL(running.url).port);
    const first = { ca: await readFile(join(dir, "first.crt")) };
    const second = { ca: await readFile(join(dir, "second.crt")) };
    assert.equal(await servedCertificate(port), "first");
    let done = false;
    t.after(() => (done = true)); // the loops end with the test, passed or failed
    // A new connection for each request, so each one meets the certificate served at that moment.
    const oldClient = loop(
      () => send(`${running.url}/metrics`, {}, { ...first, agent: new HttpsAgent({ ca: first.ca }) }),
      () => done,
    );
    await new Promise((r) => setTimeout(r, 300));
    // The key first, then the certificate: read in between, the pair does not fit, and that reload is refused.
    await writeFile(join(dir, "first.key"), await readFile(join(dir, "second.key")));
    const half = await reloadAs(running, "", first);
    assert.equal(half, 500, "a key that does not fit the certificate is refused");
    assert.equal(await servedCertificate(port), "first", "the previous certificate still serves");
    await writeFile(join(dir, "first.crt"), await readFile(join(dir, "second.crt")));
    // Asked over a connection that trusts what is served now; the watcher may have been first, either way is good.
    const rotated = await reloadAs(running, "", first);
    assert.ok(
      rotated === 200 || (rotated === "DEPTH_ZERO_SELF_SIGNED_CERT" && (await servedCertificate(port)) === "second"),
      String(rotated),
    );
    const reloaded = Date.now();
    const fresh = (
      await Promise.all(
        [0, 1].map(() =>
          loop(
            () => send(`${running.url}/metrics`, {}, { ...second, agent: new HttpsAgent({ ca: second.ca }) }),
            () => Date.now() - reloaded > 1500,
          ),
        ),
      )
    ).flat();
    done = true;
    const old = await oldClient;
    process.stdout.write(`# certificate rotation: new CA ${JSON.stringify(count(fresh))}; old CA ${JSON.stringify(count(old))}\n`);
    assert.equal(await servedCertificate(port), "second");
    assert.ok(fresh.length >= 20, `only ${fresh.length} requests with the new certificate`);
    assert.deepEqual(count(fresh), { 200: fresh.length }, "every request trusting the new certificate succeeds");
    const cut = old.findIndex((g) => g !== 200);
    assert.ok(cut > 0, JSON.stringify(count(old)));
    assert.ok(
      old.slice(cut).every((g) => g !== 200),
      "after the rotation, the old certificate is never served again to a new connection",
    );
  });

  it("answers plain HTTP on the TLS port with a 400 that says so, and logs it", async () => {
    const { running, logs } = await start("tls_server_config:\n  cert_file: second.crt\n  key_file: second.key\n");
    const port = Number(new URL(running.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = tcpConnect(port, "127.0.0.1", () => socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.0 400 Bad Request\r\n/);
    assert.match(answer, /\r\n\r\nClient sent an HTTP request to an HTTPS server\.\n$/);
    assert.equal(await send(running.url.replace("https:", "http:") + "/metrics", {}), 400, "Node's own client reads it as a 400");
    assert.ok(logs().some((l) => l.level === "warn" && String(l.msg).includes("plain HTTP to the TLS port")));
  });

  it("turns TLS on by a reload, on the same port", async () => {
    const { running } = await start("");
    const port = Number(new URL(running.url).port);
    assert.equal(await send(`${running.url}/-/healthy`, {}), 200);
    await writeFile(file, "tls_server_config:\n  cert_file: second.crt\n  key_file: second.key\n");
    assert.equal(await reloadAs(running, ""), 200);
    assert.equal(running.url, `https://127.0.0.1:${port}`);
    assert.equal(await send(`${running.url}/-/healthy`, {}, { ca: await readFile(join(dir, "second.crt")) }), 200);
    assert.equal(await send(`http://127.0.0.1:${port}/-/healthy`, {}), 400);
  });
});
