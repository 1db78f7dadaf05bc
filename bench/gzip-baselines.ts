import { createServer, get, type Server } from "node:http";
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

export interface RawAnswer {
  readonly ms: number;
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
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          ms: performance.now() - t,
          status: res.statusCode ?? 0,
          contentEncoding: res.headers["content-encoding"],
          bytes: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}
