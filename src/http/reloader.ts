import type { Logger } from "pino";
import type { ExporterConfig } from "../config/config.js";
import { formatConfigError, type ConfigError } from "../config/config-file.js";
import { err, ok, type Result } from "../result.js";
import type { ProcessMetrics } from "../self-metrics.js";

/** Where reloads read the configuration from: a file, by default (the demo adds its simulator's endpoint). */
export interface ConfigSource {
  /** Named in the reload's log lines. */
  readonly name: string;
  read(): Promise<Result<ExporterConfig, ConfigError>>;
}

/**
 * The one way a configuration is reloaded, as blackbox_exporter's
 * SafeConfig.ReloadConfig: it reads, validates and applies the file and owns
 * the reload metrics. Reloads run one after the other in the order asked
 * (SIGHUP and POST /-/reload alike), so two that overlap never apply in the
 * order their reads happen to finish.
 */
export class Reloader {
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: ConfigSource | undefined,
    private readonly apply: (config: ExporterConfig) => void,
    private readonly metrics: ProcessMetrics,
    private readonly logger: Logger,
  ) {}

  reload(): Promise<Result<void, string>> {
    const next = this.#last.then(() => this.#reloadOnce());
    this.#last = next;
    return next;
  }

  async #reloadOnce(): Promise<Result<void, string>> {
    const source = this.source;
    if (source === undefined) return err("this exporter was started without a config file");
    const loaded = await source.read();
    if (!loaded.ok) {
      const reason = formatConfigError(loaded.error);
      this.metrics.configReloadSuccessful.set(0);
      this.metrics.configReloadFailures.inc();
      this.logger.error(
        { file: source.name, code: loaded.error.code, reason },
        "config reload failed; the previous configuration stays in use",
      );
      return err(reason);
    }
    this.apply(loaded.value);
    this.metrics.configReloadSuccessful.set(1);
    this.metrics.configReloadTimestamp.set(Date.now() / 1000);
    this.logger.info({ file: source.name, calculations: loaded.value.calculations.length }, "config reloaded");
    return ok(undefined);
  }
}
