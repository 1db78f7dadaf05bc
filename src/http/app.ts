import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { basicAuth } from "./basic-auth.js";
import { CONTENT_TYPE } from "../exposition/text-format.js";
import type { Target } from "../target.js";
import type { ProcessMetrics } from "../self/metrics.js";
import type { Targets } from "../targets.js";
import { negotiateEncoding } from "./encoding.js";
import { gzipBody, identityBody, partBytes, type BodyPart } from "../exposition/gzip-body.js";
import { writeBody } from "./write-body.js";
import { refreshBudgetMs } from "./scrape-deadline.js";
import type { Result } from "../result.js";
import { statusPage } from "./status-page.js";
import { whileEither } from "../either-signal.js";
import { registryText } from "../exposition/registry-text.js";

export interface ServerOptions {
  readonly logger: Logger;
  /** POST /-/reload calls it; its error is the answer's reason. */
  readonly reload?: () => Promise<Result<void, string>>;
  /**
   * The users of the web config in use, asked for on every request: when not
   * empty, every request but the health checks needs basic auth against these bcrypt hashes.
   */
  readonly basicAuthUsers?: () => ReadonlyMap<string, string>;
  /** Aborts when the exporter stops: scrapes in flight stop waiting for Athena and answer with what they have. */
  readonly closing?: AbortSignal;
}

const ROUTES: Readonly<Record<string, readonly string[]>> = {
  "/": ["GET", "HEAD"],
  "/metrics": ["GET", "HEAD"],
  "/-/healthy": ["GET", "HEAD"],
  "/-/ready": ["GET", "HEAD"],
  // As Prometheus's own: a state change, so never GET.
  "/-/reload": ["POST", "PUT"],
};

/**
 * Outside basic auth, as the container's health check and Kubernetes probes
 * carry no credentials; they answer a fixed word and reveal nothing.
 */
const UNAUTHENTICATED: ReadonlySet<string> = new Set(["/-/healthy", "/-/ready"]);

/** The exporter's HTTP interface, following Prometheus's own endpoints. */
export function createHttpApp(targets: Targets, processMetrics: ProcessMetrics, options: ServerOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const users = options.basicAuthUsers;
  if (users !== undefined) {
    const auth = basicAuth(users);
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (UNAUTHENTICATED.has(req.path) || users().size === 0) next();
      else auth(req, res, next);
    });
  }

  app.use((req: Request, res: Response, next: NextFunction) => {
    const allowed = ROUTES[req.path];
    if (allowed === undefined) {
      res
        .status(404)
        .type("text/plain")
        .send(`404 page not found: ${req.path.slice(0, 100)}\n`);
      return;
    }
    if (!allowed.includes(req.method)) {
      res.status(405).set("Allow", allowed.join(", ")).type("text/plain").send(`405 method ${req.method} not allowed on ${req.path}\n`);
      return;
    }
    next();
  });

  app.get("/", async (_req, res) => {
    res.type("html").send(await statusPage(targets, processMetrics));
  });

  app.get("/-/healthy", (_req, res) => {
    res.type("text/plain").send("Healthy.\n");
  });

  app.get("/-/ready", (_req, res) => {
    res.type("text/plain").send("Ready.\n");
  });

  const reload = async (_req: Request, res: Response): Promise<void> => {
    if (options.reload === undefined) {
      res.status(501).type("text/plain").send("reload is not available\n");
      return;
    }
    const result = await options.reload();
    if (result.ok) res.type("text/plain").send("Reloaded.\n");
    else res.status(500).type("text/plain").send(`failed to reload config: ${result.error}\n`);
  };
  app.post("/-/reload", reload);
  app.put("/-/reload", reload);

  const scrapeTarget = async (target: Target, timeoutHeader: string | undefined): Promise<BodyPart[]> => {
    const budget = refreshBudgetMs(timeoutHeader, target.config.scrape.timeoutMs);
    const deadline = AbortSignal.timeout(budget);
    return options.closing === undefined ? target.scrape(deadline) : whileEither(deadline, options.closing, (s) => target.scrape(s));
  };

  app.get("/metrics", async (req, res) => {
    const started = performance.now();
    // A target's scrape is timed from the request to the last byte handed to the socket: refresh, render, gzip and write.
    const timeScrapeOf = (target: Target): void => {
      res.once("finish", () => target.metrics.scrapeDuration.observe((performance.now() - started) / 1000));
    };
    // Caches in between must not hand a gzip body to a client that did not ask for one.
    res.set("Vary", "Accept-Encoding");
    const encoding = negotiateEncoding(req);
    if (encoding === undefined) {
      res.status(406).type("text/plain").send("406 no acceptable encoding: /metrics answers in gzip or identity\n");
      return;
    }
    const name = typeof req.query.target === "string" ? req.query.target : undefined;
    const timeoutHeader = req.get("X-Prometheus-Scrape-Timeout-Seconds");
    const processText = async (): Promise<Buffer> => Buffer.from(await registryText(processMetrics.registry), "utf8");
    let chunks: BodyPart[];
    if (targets.single !== undefined) {
      if (name !== undefined) {
        res.status(400).type("text/plain").send("this exporter has no named targets: scrape /metrics without ?target=\n");
        return;
      }
      timeScrapeOf(targets.single);
      chunks = [...(await scrapeTarget(targets.single, timeoutHeader)), await processText()];
    } else if (name === undefined) {
      // The exporter's own metrics; each target's are at /metrics?target=NAME.
      chunks = [await processText()];
    } else {
      const target = targets.get(name);
      if (target === undefined) {
        res
          .status(404)
          .type("text/plain")
          .send(`unknown target ${JSON.stringify(name.slice(0, 100))}: configured are ${targets.names().join(", ")}\n`);
        return;
      }
      timeScrapeOf(target);
      chunks = await scrapeTarget(target, timeoutHeader);
    }
    const gzipped = encoding === "gzip" ? await gzipBody(chunks) : undefined;
    const length = gzipped === undefined ? chunks.reduce((n, c) => n + partBytes(c), 0) : gzipped.reduce((n, c) => n + c.length, 0);
    res.set("Content-Type", CONTENT_TYPE);
    if (encoding === "gzip") res.set("Content-Encoding", "gzip");
    res.set("Content-Length", String(length));
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    // Written as they are: no copy of a body that can be hundreds of MiB.
    await writeBody(res, gzipped ?? identityBody(chunks));
  });

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status =
      typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" ? error.status : 500;
    options.logger.error({ path: req.path, status, err: error instanceof Error ? error.message : String(error) }, "request failed");
    res
      .status(status)
      .type("text/plain")
      .send(`${status === 500 ? "internal error" : "bad request"}\n`);
  });

  return app;
}
