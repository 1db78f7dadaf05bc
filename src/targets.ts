import type { ExporterConfig } from "./config/config.js";
import { Target, type TargetDeps } from "./target.js";
import type { ProcessMetrics } from "./self/metrics.js";

/**
 * The targets a process watches: one for a plain config, served at /metrics;
 * one per named target otherwise, each served at /metrics?target=NAME so
 * Prometheus's relabelling gives each its own labels (the multi-target
 * exporter pattern) and no series changes when a target is added.
 */
export class Targets {
  readonly #byName = new Map<string, Target>();
  #single: Target | undefined;

  constructor(
    config: ExporterConfig,
    private readonly deps: TargetDeps,
    private readonly processMetrics: ProcessMetrics,
  ) {
    this.apply(config);
  }

  /** The target of a plain (single-target) config; undefined with named targets. */
  get single(): Target | undefined {
    return this.#single;
  }

  get(name: string): Target | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  all(): Target[] {
    return this.#single === undefined ? [...this.#byName.values()] : [this.#single];
  }

  /** Starts, reconfigures and stops targets to match `config`; kept targets keep their cache and counters. */
  apply(config: ExporterConfig): void {
    this.processMetrics.targetInfo.reset();
    if (config.targets === undefined) {
      for (const target of this.#byName.values()) void target.close();
      this.#byName.clear();
      if (this.#single === undefined) this.#single = new Target(config, this.deps);
      else this.#single.reconfigure(config);
      return;
    }
    if (this.#single !== undefined) {
      void this.#single.close();
      this.#single = undefined;
    }
    const wanted = new Set(config.targets.map((t) => t.name));
    for (const [name, target] of this.#byName) {
      if (!wanted.has(name)) {
        void target.close();
        this.#byName.delete(name);
      }
    }
    for (const { name, config: targetConfig } of config.targets) {
      const existing = this.#byName.get(name);
      if (existing === undefined) this.#byName.set(name, new Target(targetConfig, this.deps));
      else existing.reconfigure(targetConfig);
      const account = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(targetConfig.aws.role?.arn ?? "")?.[1] ?? "";
      this.processMetrics.targetInfo.set({ target: name, aws_region: targetConfig.aws.region ?? "", aws_account_id: account }, 1);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((e) => e.close()));
  }
}
