import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import type { Logger } from "pino";
import type { WebConfig } from "../config/web-config.js";

type Tls = NonNullable<WebConfig["tls"]>;

/** The first byte of a TLS record that opens a handshake; anything else on the TLS port is not TLS. */
const TLS_HANDSHAKE = 0x16;

/** Go's net/http answer to plain HTTP on a TLS port, word for word, so the mistake reads the same as on node_exporter. */
const PLAIN_HTTP_ON_TLS =
  "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

const PEEK_TIMEOUT_MS = 10_000;

/** One log line about plain HTTP on the TLS port at most this often: a misconfigured scraper repeats it every scrape. */
const PLAIN_HTTP_LOG_INTERVAL_MS = 60_000;

export interface Listener {
  readonly port: number;
  /** TLS for connections accepted from now on (undefined: plain HTTP); open connections keep what they began with. */
  setTls(tls: Tls | undefined): void;
  /**
   * Stops accepting, answers the requests in flight with `Connection: close`,
   * closes idle connections at once and any still open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * One TCP listener in front of an HTTP server and, when TLS is on, an HTTPS
 * server that it hands each new connection to, as exporter-toolkit reads its
 * TLS settings per connection: a reload can rotate the certificate, change
 * client authentication, or turn TLS on or off without closing the port.
 * With TLS on it reads a connection's first byte, as Go's net/http does, so
 * that plain HTTP gets a 400 saying so instead of a silent reset.
 */
export async function listen(
  host: string,
  port: number,
  handler: RequestListener,
  tls: Tls | undefined,
  logger: Logger,
): Promise<Listener> {
  let closing = false;
  /** The server given each new connection: plain HTTP, or HTTPS with the TLS settings in use. */
  interface Serving {
    readonly server: Server;
    readonly tls: boolean;
    /** Its settings were replaced: its connections end after the answer in flight. */
    readonly state: { retired: boolean };
  }
  /** Each answer in flight, with the state of the server it came through. */
  const inFlight = new Map<ServerResponse, Serving["state"]>();
  const serve = (next: Tls | undefined): Serving => {
    const state = { retired: false };
    const tracked: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
      inFlight.set(res, state);
      res.once("close", () => inFlight.delete(res));
      if (closing || state.retired) res.setHeader("Connection", "close");
      handler(req, res);
    };
    const server =
      next === undefined
        ? createHttpServer(tracked)
        : createHttpsServer(
            {
              cert: next.cert,
              key: next.key,
              minVersion: next.minVersion,
              ...(next.clientCa === undefined ? {} : { ca: next.clientCa }),
              requestCert: next.clientAuth !== "NoClientCert",
              rejectUnauthorized: next.clientAuth === "RequireAndVerifyClientCert",
            },
            tracked,
          );
    // This server never listens itself; 'listening' is what starts Node's tracking of its
    // connections, which enforces headersTimeout and requestTimeout and lets close() end idle ones.
    server.emit("listening");
    return { server, tls: next !== undefined, state };
  };
  let current = serve(tls);
  const retire = (serving: Serving): void => {
    serving.state.retired = true;
    for (const [res, state] of inFlight) if (state === serving.state && !res.headersSent) res.setHeader("Connection", "close");
    serving.server.close(); // its idle connections end now, and reconnect with the settings in use
  };
  let lastPlainHttpLog = -Infinity;

  const sockets = new Set<Socket>();
  const tcp = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A reset before the HTTP server takes the socket would otherwise be an uncaught 'error'.
    socket.on("error", () => socket.destroy());
    const { server, tls: secure } = current;
    if (!secure) {
      server.emit("connection", socket);
      return;
    }
    // Until the first byte: a client that connects and sends nothing is not kept forever.
    socket.setTimeout(PEEK_TIMEOUT_MS, () => socket.destroy());
    socket.once("readable", () => {
      socket.setTimeout(0);
      const first = socket.read(1) as Buffer | null; // a readable socket has at least a byte, or has ended (null)
      if (first === null) return;
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        server.emit("connection", socket);
        return;
      }
      socket.end(PLAIN_HTTP_ON_TLS);
      const now = Date.now();
      if (now - lastPlainHttpLog >= PLAIN_HTTP_LOG_INTERVAL_MS) {
        lastPlainHttpLog = now;
        logger.warn(
          { remote: socket.remoteAddress ?? "" },
          "a client sent plain HTTP to the TLS port; answered 400 (scrape with https://, scheme: https in Prometheus)",
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host === "" ? "::" : host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });

  return {
    port: (tcp.address() as AddressInfo).port, // a TCP listener always has an AddressInfo
    setTls(next) {
      const previous = current;
      current = serve(next);
      retire(previous);
    },
    async close(graceMs) {
      closing = true;
      const stopped = new Promise<void>((resolve) => tcp.close(() => resolve()));
      retire(current);
      const until = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}
