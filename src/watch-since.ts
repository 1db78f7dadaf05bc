import type { DiscoveryConfig } from "./config/config.js";

/**
 * When the exporter began to watch each thing, so that counters count only
 * what happened since: a configured calculation from the start or from the
 * reload that added its ID, a discovered one from when its workgroup began
 * to be discovered. A restart and a reload cost the same: the past is not
 * counted again, and what happens while nobody watches is not counted.
 */
export class WatchSince {
  readonly #listed = new Map<string, number>();
  #workgroups = new Map<string, number>();
  /** Since when `workgroups: all` discovers every workgroup; undefined while it does not. */
  #all: number | undefined;

  constructor(
    listed: readonly string[],
    discovery: DiscoveryConfig | undefined,
    private readonly startedAt: number,
  ) {
    this.update(listed, undefined, discovery, startedAt);
  }

  /** Takes a new configuration at `nowSeconds`: what it adds is watched from then, what it keeps keeps its time. */
  update(listed: readonly string[], previous: DiscoveryConfig | undefined, next: DiscoveryConfig | undefined, nowSeconds: number): void {
    const ids = new Set(listed);
    for (const id of this.#listed.keys()) if (!ids.has(id)) this.#listed.delete(id);
    for (const id of ids) if (!this.#listed.has(id)) this.#listed.set(id, nowSeconds);

    const wasAll = previous?.workgroups === "all";
    const isAll = next?.workgroups === "all";
    // A workgroup keeps the time it was first watched for as long as it stays watched: named, or covered by `all`.
    const named = next === undefined || next.workgroups === "all" ? [] : next.workgroups;
    const kept = new Map<string, number>();
    if (isAll) for (const [name, since] of this.#workgroups) kept.set(name, since);
    for (const name of named) kept.set(name, this.#workgroups.get(name) ?? (wasAll ? this.#all : undefined) ?? nowSeconds);
    this.#workgroups = kept;
    this.#all = isAll ? ((wasAll ? this.#all : undefined) ?? nowSeconds) : undefined;
  }

  /** Unix seconds since when a calculation of `workgroup` has been watched. */
  calculation(id: string, workgroup: string | undefined): number {
    const since = Math.min(this.#listed.get(id) ?? Infinity, this.#discovered(workgroup));
    // Watched for no reason left (a reload took it away meanwhile): as from the start.
    return Number.isFinite(since) ? since : this.startedAt;
  }

  /** Unix seconds since when a session has been watched: through its workgroup, or the configured calculations in it. */
  session(workgroup: string, calculations: Iterable<string>): number {
    let since = this.#discovered(workgroup);
    for (const id of calculations) since = Math.min(since, this.#listed.get(id) ?? Infinity);
    return Number.isFinite(since) ? since : this.startedAt;
  }

  #discovered(workgroup: string | undefined): number {
    if (workgroup === undefined) return Infinity;
    return this.#workgroups.get(workgroup) ?? this.#all ?? Infinity;
  }
}
