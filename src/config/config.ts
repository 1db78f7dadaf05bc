import { z } from "zod";
import { UUID_RE } from "../athena/calculation.js";
import { parseYaml, readConfigFile, validate, type ConfigError } from "./config-file.js";
import { notADuration, parseDuration } from "./duration.js";
import { ok, type Result } from "../result.js";
import type { AwsSettings, RoleSettings } from "../athena/settings.js";
import { tagLabel } from "../exposition/label-name.js";
import { checkFamilyPattern, type FamilyNames, type FamilySelection } from "./family-patterns.js";

/** The exporter's configuration after validation: every default filled in, durations in ms. */
export interface ExporterConfig {
  readonly aws: AwsSettings;
  readonly calculations: readonly string[];
  /** Undefined: only the listed calculations are watched. */
  readonly discovery: DiscoveryConfig | undefined;
  readonly cache: {
    readonly ttlMs: number;
    readonly maxEntries: number;
  };
  readonly cost: {
    /** Price of one DPU-hour, in US dollars; it differs by region. */
    readonly dpuHourPriceUsd: number;
  };
  readonly scrape: {
    /** Longest wait for Athena in a scrape; Prometheus's timeout header, less a margin, can shorten it. */
    readonly timeoutMs: number;
  };
  /**
   * Several AWS accounts or regions, each scraped on its own as
   * /metrics?target=NAME; undefined: one target, served at /metrics.
   */
  readonly targets: readonly TargetConfig[] | undefined;
  /** Which families a scrape shows (metrics.allow / metrics.deny); both lists empty: all of them. */
  readonly metrics: FamilySelection;
}

/** One target: the top-level settings with its own region, endpoint, role, calculations and discovery. */
export interface TargetConfig {
  readonly name: string;
  readonly config: ExporterConfig;
}

export interface DiscoveryConfig {
  /** "all": every enabled Spark workgroup from ListWorkGroups. */
  readonly workgroups: "all" | readonly string[];
  readonly intervalMs: number;
  /** Sessions that ended longer ago than this are not listed. */
  readonly lookbackMs: number;
  /** A discovered calculation's series are dropped this long after it finished. */
  readonly retentionMs: number;
  /** Workgroup tag keys exported as `tag_<key>` labels of athena_workgroup_tags; none by default. */
  readonly workgroupTags: readonly string[];
}

// Defaults live here and nowhere else.
export const DEFAULTS = {
  maxAttempts: 3,
  // Adaptive mode cuts the whole client's send rate after one throttle; with
  // the exporter's own token bucket and a handful of calls a minute, that
  // stalled every other calculation past its timeout (test/e2e/faults.test.ts).
  retryMode: "standard",
  maxConcurrency: 8,
  // The Spark read APIs publish no quota; Athena's SQL read APIs allow about
  // 100 requests/s and its list APIs about 5/s. Stay well under both.
  requestsPerSecond: 20,
  listRequestsPerSecond: 4,
  discoveryInterval: "1m",
  discoveryLookback: "24h",
  discoveryRetention: "6h",
  // Prometheus's own default scrape_timeout: a scrape without its timeout
  // header (a first scrape, curl) never waits longer than Prometheus would.
  scrapeTimeout: "10s",
  roleSessionName: "athena-calculation-exporter",
  requestTimeout: "10s",
  cacheTtl: "30s",
  cacheMaxEntries: 100_000,
} as const;

// Any YAML value is taken, so that a number or a list gets the duration's hint, not "expected a string".
const duration = z.unknown().transform((text, ctx) => {
  if (typeof text !== "string") {
    ctx.addIssue({ code: "custom", message: notADuration(text) });
    return z.NEVER;
  }
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  }
  return parsed.value;
});

const positiveDuration = duration.refine((ms) => ms > 0, { message: "must be longer than 0s" });

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: "is not an AWS region name, such as us-east-1" });
const endpoint = z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" });

const roleSchema = z.strictObject({
  arn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
    message: "is not an IAM role ARN, such as arn:aws:iam::111122223333:role/name",
  }),
  externalId: z.string().min(2).max(1224).optional(),
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/, { message: "must be 2 to 64 letters, digits or +=,.@-_" })
    .default(DEFAULTS.roleSessionName),
});

const calculationIds = z
  .array(z.string().regex(UUID_RE, { message: "is not a calculation execution ID (Athena issues them as UUIDs)" }))
  .default([])
  .superRefine((ids, ctx) => {
    const firstSeen = new Map<string, number>();
    ids.forEach((id, index) => {
      const key = id.toLowerCase();
      const first = firstSeen.get(key);
      if (first === undefined) {
        firstSeen.set(key, index);
      } else {
        ctx.addIssue({ code: "custom", path: [index], message: `duplicate ID ${id} (also at calculations[${first}])` });
      }
    });
  });

const discoverySchema = z
  .strictObject({
    workgroups: z.union([z.literal("all"), z.array(z.string().min(1)).min(1)], {
      message: 'must be "all" or a list of workgroup names',
    }),
    interval: positiveDuration.prefault(DEFAULTS.discoveryInterval),
    lookback: positiveDuration.prefault(DEFAULTS.discoveryLookback),
    retention: positiveDuration.prefault(DEFAULTS.discoveryRetention),
    // Each key is a label on every workgroup's series: a short list, each key once.
    workgroupTags: z
      .array(z.string().min(1).max(128))
      .max(10)
      .default([])
      .refine((keys) => new Set(keys.map(tagLabel)).size === keys.length, {
        message: "has two keys that make the same label (tag_ and the key with other characters than letters, digits and _ made _)",
      }),
  })
  .optional();

// Family names or anchored regular expressions, each naming at least one of `families` (src/config/family-patterns.ts).
const familyPatterns = (families: FamilyNames) =>
  z
    .array(z.string())
    .min(1)
    .superRefine((entries, ctx) => {
      entries.forEach((entry, index) => {
        const problem = checkFamilyPattern(entry, families);
        if (problem !== undefined) ctx.addIssue({ code: "custom", path: [index], message: problem });
      });
    })
    .optional();

const metricsSchema = (families: FamilyNames) =>
  z
    .strictObject({ allow: familyPatterns(families), deny: familyPatterns(families) })
    .prefault({})
    // As kube-state-metrics refuses --metric-allowlist with --metric-denylist: no precedence to guess.
    .refine((m) => m.allow === undefined || m.deny === undefined, {
      message: "allow and deny cannot both be set: list the families to keep (allow) or the families to drop (deny)",
    });

const target = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "must be 1 to 64 letters, digits, dots, dashes or underscores" }),
  region: region.optional(),
  endpoint: endpoint.optional(),
  role: roleSchema.optional(),
  calculations: calculationIds,
  discovery: discoverySchema,
});

// Built per call, as only the metrics section's check depends on what it is handed.
const schemaFor = (families: FamilyNames) =>
  z
    .strictObject({
      aws: z
        .strictObject({
          region: region.optional(),
          endpoint: endpoint.optional(),
          role: roleSchema.optional(),
          stsEndpoint: endpoint.optional(),
          maxAttempts: z.int().min(1).max(10).default(DEFAULTS.maxAttempts),
          retryMode: z.enum(["standard", "adaptive"]).default(DEFAULTS.retryMode),
          maxConcurrency: z.int().min(1).max(256).default(DEFAULTS.maxConcurrency),
          requestsPerSecond: z.number().positive().max(10_000).default(DEFAULTS.requestsPerSecond),
          listRequestsPerSecond: z.number().positive().max(10_000).default(DEFAULTS.listRequestsPerSecond),
          requestTimeout: positiveDuration.prefault(DEFAULTS.requestTimeout),
        })
        .prefault({}),
      calculations: calculationIds,
      discovery: discoverySchema,
      targets: z.array(target).min(1).optional(),
      scrape: z
        .strictObject({
          timeout: positiveDuration.prefault(DEFAULTS.scrapeTimeout),
        })
        .prefault({}),
      cost: z
        .strictObject({
          // Athena for Apache Spark's list price in us-east-1; other regions differ.
          dpuHourPriceUsd: z.number().min(0).max(1000).default(0.35),
        })
        .prefault({}),
      metrics: metricsSchema(families),
      cache: z
        .strictObject({
          ttl: positiveDuration.prefault(DEFAULTS.cacheTtl),
          maxEntries: z.int().min(1).default(DEFAULTS.cacheMaxEntries),
        })
        .prefault({}),
    })
    .superRefine((config, ctx) => {
      if (config.targets !== undefined) {
        if (config.calculations.length > 0 || config.discovery !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["targets"],
            message: "with targets, calculations and discovery go under each target, not at the top level",
          });
        }
        const names = new Set<string>();
        config.targets.forEach((t, i) => {
          if (names.has(t.name)) ctx.addIssue({ code: "custom", path: ["targets", i, "name"], message: `duplicate target name ${t.name}` });
          names.add(t.name);
        });
      }
      // Evicting a watched calculation would cost a call per scrape and could count it twice.
      if (config.cache.maxEntries >= 1 && config.calculations.length > config.cache.maxEntries) {
        ctx.addIssue({
          code: "custom",
          path: ["cache", "maxEntries"],
          message: `${config.cache.maxEntries} is less than the ${config.calculations.length} calculations watched`,
        });
      }
      // Each target has its own cache of cache.maxEntries.
      config.targets?.forEach((t, i) => {
        if (config.cache.maxEntries >= 1 && t.calculations.length > config.cache.maxEntries) {
          ctx.addIssue({
            code: "custom",
            path: ["targets", i, "calculations"],
            message: `lists ${t.calculations.length} calculations, more than cache.maxEntries (${config.cache.maxEntries}) holds`,
          });
        }
      });
    });

/**
 * Validates configuration text; `source` names the file in every message.
 * `families`: the names metrics.allow and metrics.deny are checked against,
 * handed in by whoever loads the config (the catalog's FAMILY_NAMES), so
 * that validating a file loads no family.
 */
export function parseConfig(text: string, source: string, families: FamilyNames): Result<ExporterConfig, ConfigError> {
  const raw = parseYaml(text, source);
  if (!raw.ok) return raw;
  // An empty file (or one of comments alone) is the empty configuration, as `{}` is and as an empty web config is.
  const parsed = validate(schemaFor(families), raw.value ?? {}, source, {
    unknownKey: "unknown key (check its spelling and nesting)",
    echoValues: true,
  });
  if (!parsed.ok) return parsed;
  const { aws, calculations, discovery, cache, scrape, cost, targets, metrics } = parsed.value;
  const toRole = (r: z.infer<typeof roleSchema> | undefined): RoleSettings | undefined =>
    r === undefined ? undefined : { arn: r.arn, externalId: r.externalId, sessionName: r.sessionName };
  const toDiscovery = (d: z.infer<typeof discoverySchema>): DiscoveryConfig | undefined =>
    d === undefined
      ? undefined
      : {
          workgroups: d.workgroups,
          intervalMs: d.interval,
          lookbackMs: d.lookback,
          retentionMs: d.retention,
          workgroupTags: d.workgroupTags,
        };
  const top: ExporterConfig = {
    aws: {
      region: aws.region,
      endpoint: aws.endpoint,
      maxAttempts: aws.maxAttempts,
      retryMode: aws.retryMode,
      maxConcurrency: aws.maxConcurrency,
      requestsPerSecond: aws.requestsPerSecond,
      listRequestsPerSecond: aws.listRequestsPerSecond,
      requestTimeoutMs: aws.requestTimeout,
      role: toRole(aws.role),
      stsEndpoint: aws.stsEndpoint,
    },
    calculations: calculations.map((id) => id.toLowerCase()),
    discovery: toDiscovery(discovery),
    cache: { ttlMs: cache.ttl, maxEntries: cache.maxEntries },
    scrape: { timeoutMs: scrape.timeout },
    cost: { dpuHourPriceUsd: cost.dpuHourPriceUsd },
    targets: undefined,
    metrics: { allow: metrics.allow ?? [], deny: metrics.deny ?? [] },
  };
  if (targets === undefined) return ok(top);
  return ok({
    ...top,
    targets: targets.map((t) => ({
      name: t.name,
      config: {
        ...top,
        aws: {
          ...top.aws,
          region: t.region ?? top.aws.region,
          endpoint: t.endpoint ?? top.aws.endpoint,
          role: toRole(t.role) ?? top.aws.role,
        },
        calculations: t.calculations.map((id) => id.toLowerCase()),
        discovery: toDiscovery(t.discovery),
      },
    })),
  });
}

/** Reads and validates a config file; a missing or unreadable file is named by its path. */
export async function loadConfig(path: string, families: FamilyNames): Promise<Result<ExporterConfig, ConfigError>> {
  const text = await readConfigFile(path, "config file");
  return text.ok ? parseConfig(text.value, path, families) : text;
}
