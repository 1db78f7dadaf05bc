import { CALCULATION_FAMILIES } from "../calculations/metrics.js";
import type { FamilySpec } from "../exposition/text-format.js";
import { FINISHED_FAMILIES } from "../calculations/finished-counters.js";
import { FINISHED_HISTOGRAM_FAMILIES } from "../calculations/finished-histograms.js";
import { PROCESS_FAMILIES, SELF_FAMILIES } from "../self/metrics.js";
import { PRICE_FAMILIES, SESSION_COUNTER_FAMILIES } from "../sessions/dpu-counter.js";
import { EXECUTOR_COUNTER_FAMILIES, EXECUTOR_FAMILIES } from "../executors/metrics.js";
import { SESSION_FAMILIES, WORKGROUP_FAMILIES, WORKGROUP_TAGS_FAMILY } from "../sessions/metrics.js";

/**
 * Every family the exporter defines, in the order of README's metric
 * table: per calculation, the aggregate counters, per session and workgroup, one target's health,
 * then the process's (prom-client's process_* and nodejs_* defaults aside).
 * README's table is generated from it, and a real scrape is tested against it.
 */
export const ALL_FAMILIES: readonly FamilySpec[] = [
  ...CALCULATION_FAMILIES,
  ...FINISHED_FAMILIES,
  ...FINISHED_HISTOGRAM_FAMILIES,
  ...SESSION_FAMILIES,
  ...SESSION_COUNTER_FAMILIES,
  ...EXECUTOR_FAMILIES,
  ...EXECUTOR_COUNTER_FAMILIES,
  ...WORKGROUP_FAMILIES,
  WORKGROUP_TAGS_FAMILY,
  ...PRICE_FAMILIES,
  ...SELF_FAMILIES,
  ...PROCESS_FAMILIES,
];
