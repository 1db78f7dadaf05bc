import { createHash } from "node:crypto";

/** Which part of the work this replica does (kube-state-metrics' --shard and --total-shards). */
export interface Shard {
  readonly ordinal: number;
  readonly total: number;
}

export const SINGLE_SHARD: Shard = { ordinal: 0, total: 1 };

/**
 * A stable hash of an ID, the same on every replica and every restart, so
 * each calculation (or session) belongs to exactly one shard.
 */
export function shardOf(id: string, total: number): number {
  if (total <= 1) return 0;
  return createHash("md5").update(id.toLowerCase()).digest().readUInt32BE(0) % total;
}

export function owns(shard: Shard, id: string): boolean {
  return shardOf(id, shard.total) === shard.ordinal;
}
