/**
 * The container's health check: `node dist/cli/healthcheck.js [[HOST]:PORT]`
 * exits 0 when the exporter on this host answers /-/healthy, 1 otherwise.
 *
 * It works whatever --web.config.file says: /-/healthy is outside basic
 * auth, and the check speaks TLS first and plain HTTP when the server does
 * not. The certificate is not verified: the check talks to its own pod over
 * loopback and sends nothing secret, as the kubelet's HTTPS probes do. A
 * server that requires client certificates cannot be checked this way.
 */
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { DEFAULT_PORT } from "./flags.js";

const TIMEOUT_MS = 2500;

function probe(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage): void => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const req = url.startsWith("https:")
      ? httpsGet(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, done)
      : httpGet(url, { timeout: TIMEOUT_MS }, done);
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
  });
}

async function main(address: string): Promise<number> {
  const match = /^(.*):(\d+)$/.exec(address);
  if (match === null) {
    process.stderr.write(`healthcheck: "${address}" is not [HOST]:PORT\n`);
    return 1;
  }
  const host = match[1] === "" ? "127.0.0.1" : (match[1] ?? "127.0.0.1");
  const base = `${host}:${match[2] ?? ""}/-/healthy`;
  let status: number;
  try {
    status = await probe(`https://${base}`);
  } catch {
    try {
      status = await probe(`http://${base}`);
    } catch (e) {
      process.stderr.write(`healthcheck: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  if (status !== 200) process.stderr.write(`healthcheck: /-/healthy answered ${status}\n`);
  return status === 200 ? 0 : 1;
}

process.exitCode = await main(process.argv[2] ?? `:${DEFAULT_PORT}`);
