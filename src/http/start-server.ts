import { isDeepStrictEqual } from "node:util";
import type { ExporterConfig } from "../config/config.js";
import { formatConfigError, type ConfigError } from "../config/config-file.js";
import { createHttpApp } from "./app.js";
import { err, ok, type Result } from "../result.js";
import { ProcessMetrics } from "../self/metrics.js";
import type { TargetDeps } from "../target.js";
import { Targets } from "../targets.js";
import type { WebConfig } from "../config/web-config.js";
import { stoppedBy } from "../athena/stoppable-api.js";
import { listen, type Listener } from "./listener.js";
import { watchFiles } from "./file-watch.js";

/** How long a stop waits for the answers in flight before it closes their connections. */
const STOP_GRACE_MS = 500;
/** How often the web config's files are checked for a change. */
const WEB_WATCH_INTERVAL_MS = 1000;

export interface RunningServer {
  readonly targets: Targets;
  /** http:// or https://, as the web config in use says. */
  readonly url: string;
  /** Reads the configuration (and the web config) again; a bad one is refused and the old one keeps serving. */
  reload(): Promise<Result<void, string>>;
  /** Within a second, whatever is in flight: Athena calls aborted, scrapes answered with what they have, the port closed. */
  close(): Promise<void>;
}

/** Where reloads read a configuration from: a file, by default (the demo adds its simulator's endpoint). */
export interface Source<T> {
  /** Named in the reload's log lines. */
  readonly name: string;
  read(): Promise<Result<T, ConfigError>>;
}
export type ConfigSource = Source<ExporterConfig>;

export interface ServerOptions {
  /** What every target is built from. */
  readonly deps: TargetDeps;
  /** Without it, reloads are refused. */
  readonly configSource?: ConfigSource;
  /** TLS and basic auth (--web.config.file) at start. */
  readonly web?: WebConfig;
  /** Where reloads read the web config from; its files are also watched, and read again when they change. */
  readonly webSource?: Source<WebConfig>;
}

/** Starts the exporter's HTTP server with its targets; resolves once it listens. */
export async function startServer(
  config: ExporterConfig,
  address: { host: string; port: number },
  options: ServerOptions,
): Promise<RunningServer> {
  const processMetrics = new ProcessMetrics();
  const closing = new AbortController();
  const deps: TargetDeps = { ...options.deps, athenaApis: stoppedBy(options.deps.athenaApis, closing.signal) };
  const targets = new Targets(config, deps, processMetrics);
  const { logger } = options.deps;
  const source = options.configSource;
  const webSource = options.webSource;
  let web = options.web;
  // The reload gauge is 1 when both files were good the last time each was read.
  const outcome = { config: true, web: true };

  const refused = (what: "config" | "web", name: string, error: ConfigError): string => {
    const reason = formatConfigError(error);
    outcome[what] = false;
    processMetrics.configReloadSuccessful.set(0);
    processMetrics.configReloadFailures.inc();
    processMetrics.lastReloadFailure = { reason, at: Date.now() / 1000 };
    const message =
      what === "config"
        ? "config reload failed; the previous configuration stays in use"
        : "web config reload failed; the previous web configuration stays in use";
    logger.error({ file: name, code: error.code, reason }, message);
    return reason;
  };
  const accepted = (what: "config" | "web"): void => {
    outcome[what] = true;
    processMetrics.configReloadSuccessful.set(outcome.config && outcome.web ? 1 : 0);
    if (outcome.config && outcome.web) processMetrics.lastReloadFailure = undefined;
    processMetrics.configReloadTimestamp.set(Date.now() / 1000);
  };

  const reloadConfig = async (): Promise<Result<void, string>> => {
    if (source === undefined) return err("this exporter was started without a config file");
    const loaded = await source.read();
    if (!loaded.ok) return err(refused("config", source.name, loaded.error));
    targets.apply(loaded.value);
    accepted("config");
    logger.info({ file: source.name, calculations: loaded.value.calculations.length }, "config reloaded");
    return ok(undefined);
  };

  let stopWatching = (): void => undefined;
  const reloadWeb = async (cause: string): Promise<Result<void, string>> => {
    if (webSource === undefined) return ok(undefined);
    const loaded = await webSource.read();
    if (!loaded.ok) return err(refused("web", webSource.name, loaded.error));
    const next = loaded.value;
    if (!isDeepStrictEqual(next.tls, web?.tls)) listener.setTls(next.tls);
    if (!isDeepStrictEqual(next.files, web?.files)) watch(next.files);
    web = next;
    accepted("web");
    logger.info(
      { file: webSource.name, cause, tls: next.tls !== undefined, basic_auth_users: next.basicAuthUsers.size },
      "web config reloaded",
    );
    return ok(undefined);
  };

  // One reload at a time, whatever asked for it (SIGHUP, POST /-/reload, a changed file), as blackbox_exporter's.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run);
    queue = next.catch(() => undefined);
    return next;
  };
  const reload = (): Promise<Result<void, string>> =>
    serially(async () => {
      // A server given only a web config to read (as some tests start it) reloads just that.
      const config = source === undefined && webSource !== undefined ? ok(undefined) : await reloadConfig();
      const results = [config, await reloadWeb("reload")];
      const reasons = results.flatMap((r) => (r.ok ? [] : [r.error]));
      return reasons.length === 0 ? ok(undefined) : err(reasons.join("; "));
    });
  const watch = (files: readonly string[]): void => {
    stopWatching();
    stopWatching = watchFiles(files, WEB_WATCH_INTERVAL_MS, () => void serially(() => reloadWeb("file changed")));
  };

  const app = createHttpApp(targets, processMetrics, {
    logger,
    reload,
    basicAuthUsers: () => web?.basicAuthUsers ?? new Map<string, string>(),
    closing: closing.signal,
  });
  let listener: Listener;
  try {
    listener = await listen(address.host, address.port, app, web?.tls, logger);
  } catch (e) {
    // Discovery's timers would keep a process that cannot serve alive.
    try {
      await targets.close();
    } finally {
      processMetrics.close();
    }
    throw e;
  }
  if (webSource !== undefined && web !== undefined) watch(web.files);
  const urlHost = address.host === "" ? "localhost" : address.host.includes(":") ? `[${address.host}]` : address.host;
  return {
    targets,
    get url(): string {
      return `${web?.tls === undefined ? "http" : "https"}://${urlHost}:${listener.port}`;
    },
    reload,
    close: async () => {
      closing.abort();
      stopWatching();
      await listener.close(STOP_GRACE_MS);
      try {
        await targets.close();
      } finally {
        processMetrics.close();
      }
    },
  };
}
