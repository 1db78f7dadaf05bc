import type { ExporterConfig } from "./config.js";
import { Exporter, type ExporterOptions } from "./exporter.js";
import type { ProcessMetrics } from "./self-metrics.js";

/**
 * The exporters a process runs: one for a plain config, served at /metrics;
 * one per named target otherwise, each served at /metrics?target=NAME so
 * Prometheus's relabelling gives each its own labels (the multi-target
 * exporter pattern) and no series changes when a target is added.
 */
export class Targets {
  readonly #byName = new Map<string, Exporter>();
  #single: Exporter | undefined;

  constructor(
    config: ExporterConfig,
    private readonly options: ExporterOptions,
    private readonly processMetrics: ProcessMetrics,
  ) {
    this.apply(config);
  }

  /** The exporter of a plain (single-target) config; undefined with named targets. */
  get single(): Exporter | undefined {
    return this.#single;
  }

  get(name: string): Exporter | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  all(): Exporter[] {
    return this.#single === undefined ? [...this.#byName.values()] : [this.#single];
  }

  /** Starts, reconfigures and stops exporters to match `config`; kept targets keep their cache and counters. */
  apply(config: ExporterConfig): void {
    this.processMetrics.targetInfo.reset();
    if (config.targets === undefined) {
      for (const exporter of this.#byName.values()) void exporter.close();
      this.#byName.clear();
      if (this.#single === undefined) this.#single = new Exporter(config, this.options);
      else this.#single.reconfigure(config);
      return;
    }
    if (this.#single !== undefined) {
      void this.#single.close();
      this.#single = undefined;
    }
    const wanted = new Set(config.targets.map((t) => t.name));
    for (const [name, exporter] of this.#byName) {
      if (!wanted.has(name)) {
        void exporter.close();
        this.#byName.delete(name);
      }
    }
    for (const { name, config: targetConfig } of config.targets) {
      const existing = this.#byName.get(name);
      if (existing === undefined) this.#byName.set(name, new Exporter(targetConfig, this.options));
      else existing.reconfigure(targetConfig);
      const account = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(targetConfig.aws.role?.arn ?? "")?.[1] ?? "";
      this.processMetrics.targetInfo.set({ target: name, aws_region: targetConfig.aws.region ?? "", aws_account_id: account }, 1);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((e) => e.close()));
  }
}
