import { fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, get, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";

const TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<StaticServer> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The identity floor: the same body sent from memory as it is. */
export function identityServer(body: Buffer): Promise<StaticServer> {
  return listen(
    createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": TEXT_FORMAT, "Content-Length": body.length });
      res.end(body);
    }),
  );
}

/** The floor: the same body, compressed once beforehand, sent from memory. */
export function precompressedServer(gzipped: Buffer): Promise<StaticServer> {
  return listen(
    createServer((_req, res) => {
      res.writeHead(200, {
        "Content-Type": TEXT_FORMAT,
        "Content-Encoding": "gzip",
        Vary: "Accept-Encoding",
        "Content-Length": gzipped.length,
      });
      res.end(gzipped);
    }),
  );
}

/**
 * The peer: the same body compressed on every request as a stream, at zlib's
 * default level, which is what prom-client behind compression middleware does.
 */
export function compressingServer(body: Buffer): Promise<StaticServer> {
  return listen(
    createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": TEXT_FORMAT, "Content-Encoding": "gzip", Vary: "Accept-Encoding" });
      pipeline(Readable.from([body]), createGzip(), res).catch(() => res.destroy());
    }),
  );
}

/** The three static baselines of one body, served by a child process (baseline-process.ts). */
export interface Baselines {
  readonly identity: string;
  readonly gzipFloor: string;
  readonly peer: string;
  close(): Promise<void>;
}

/** Starts baseline-process.ts with `body`, with the loader this process runs with (tsx). */
export async function startBaselines(body: Buffer): Promise<Baselines> {
  const dir = await mkdtemp(join(tmpdir(), "bench-baselines-"));
  const file = join(dir, "body.prom");
  await writeFile(file, body);
  const child = fork(new URL("./baseline-process.ts", import.meta.url).pathname, [file], { execArgv: process.execArgv });
  try {
    const urls = await new Promise<{ identity: string; gzipFloor: string; peer: string }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { identity: string; gzipFloor: string; peer: string }));
      child.once("exit", (code) => reject(new Error(`the baseline process exited with ${code} before listening`)));
    });
    return {
      ...urls,
      close: async () => {
        // Already gone (it crashed, or was killed with the bench): nothing to wait for.
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          if (child.connected) child.disconnect();
          else child.kill();
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    child.kill();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RawAnswer {
  readonly ms: number;
  /** Time to the response's headers: the server's work before it sends, with one round trip. */
  readonly headersMs: number;
  readonly status: number;
  readonly contentEncoding: string | undefined;
  /** The body as it crossed the wire (not decompressed). */
  readonly bytes: Buffer;
}

/**
 * A GET timed to its last byte, the body kept as it came over the wire:
 * fetch() would decompress it and count the client's gunzip in the time.
 */
export function rawGet(url: string, headers: Record<string, string>): Promise<RawAnswer> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const headersMs = performance.now() - t;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          ms: performance.now() - t,
          headersMs,
          status: res.statusCode ?? 0,
          contentEncoding: res.headers["content-encoding"],
          bytes: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}
