import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";
import { UUID_RE } from "./calculation.js";
import { parseDuration } from "./duration.js";
import { err, ok, type Result } from "./result.js";

/** The exporter's configuration after validation: every default filled in, durations in ms. */
export interface ExporterConfig {
  readonly aws: {
    /** Undefined: the SDK's region chain (AWS_REGION, profile, instance metadata). */
    readonly region: string | undefined;
    /** Undefined: the SDK's endpoint resolution, which honours AWS_ENDPOINT_URL_ATHENA. */
    readonly endpoint: string | undefined;
    readonly maxAttempts: number;
    readonly maxConcurrency: number;
    readonly requestTimeoutMs: number;
  };
  readonly calculations: readonly string[];
  readonly cache: {
    readonly ttlMs: number;
    readonly maxEntries: number;
  };
}

// Defaults live here and nowhere else.
export const DEFAULTS = {
  maxAttempts: 3,
  maxConcurrency: 8,
  requestTimeout: "10s",
  cacheTtl: "30s",
  cacheMaxEntries: 100_000,
} as const;

const duration = z.string().transform((text, ctx) => {
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  }
  return parsed.value;
});

const positiveDuration = duration.refine((ms) => ms > 0, { message: "must be longer than 0s" });

const schema = z.strictObject({
  aws: z
    .strictObject({
      region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: "is not an AWS region name, such as us-east-1" })
        .optional(),
      endpoint: z
        .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
        .optional(),
      maxAttempts: z.int().min(1).max(10).default(DEFAULTS.maxAttempts),
      maxConcurrency: z.int().min(1).max(256).default(DEFAULTS.maxConcurrency),
      requestTimeout: positiveDuration.prefault(DEFAULTS.requestTimeout),
    })
    .prefault({}),
  calculations: z
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
    }),
  cache: z
    .strictObject({
      ttl: positiveDuration.prefault(DEFAULTS.cacheTtl),
      maxEntries: z.int().min(1).default(DEFAULTS.cacheMaxEntries),
    })
    .prefault({}),
}).superRefine((config, ctx) => {
  // Evicting a watched calculation would cost a call per scrape and could count it twice.
  if (config.cache.maxEntries >= 1 && config.calculations.length > config.cache.maxEntries) {
    ctx.addIssue({
      code: "custom",
      path: ["cache", "maxEntries"],
      message: `${config.cache.maxEntries} is less than the ${config.calculations.length} calculations watched`,
    });
  }
});

/** A configuration problem, worded for the person who edits the file. */
export interface ConfigError {
  readonly source: string;
  readonly problems: readonly string[];
}

export function formatConfigError(error: ConfigError): string {
  return error.problems.length === 1
    ? `${error.source}: ${error.problems[0] ?? ""}`
    : `${error.source}:\n${error.problems.map((p) => `  - ${p}`).join("\n")}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc === "" ? String(part) : `${acc}.${String(part)}`;
  }, "");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys
        .map((key) => `${where === "" ? key : `${where}.${key}`}: unknown key (check its spelling and nesting)`)
        .join("\n");
    case "invalid_type":
      if (issue.input === undefined) return `${where}: is required`;
      return `${where || "(top level)"}: expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}${describeReceived(issue.input)}`;
    case "too_small":
      return `${where}: must be at least ${String(issue.minimum)}${describeReceived(issue.input)}`;
    case "too_big":
      return `${where}: must be at most ${String(issue.maximum)}${describeReceived(issue.input)}`;
    case "custom":
      return `${where || "(top level)"}: ${issue.message}`;
    default:
      return `${where || "(top level)"}: ${issue.message}${describeReceived(issue.input)}`;
  }
}

const EXPECTED_NAMES: Readonly<Record<string, string>> = {
  array: "a list",
  object: "a mapping",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function describeReceived(input: unknown): string {
  if (input === undefined) return "";
  if (input === null) return ", got an empty value";
  if (Array.isArray(input)) return ", got a list";
  return `, got ${typeof input === "object" ? "a mapping" : `${typeof input} ${JSON.stringify(input)}`}`;
}

/** Validates configuration text; `source` names the file in every message. */
export function parseConfig(text: string, source: string): Result<ExporterConfig, ConfigError> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return err({ source, problems: doc.errors.map((e) => `YAML syntax error: ${(e.message.split("\n")[0] ?? "").replace(/:$/, "")}`) });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    return err({ source, problems: ["the file is empty: it needs at least a `calculations` list"] });
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return err({ source, problems: parsed.error.issues.flatMap((issue) => describeIssue(issue).split("\n")) });
  }
  const { aws, calculations, cache } = parsed.data;
  return ok({
    aws: {
      region: aws.region,
      endpoint: aws.endpoint,
      maxAttempts: aws.maxAttempts,
      maxConcurrency: aws.maxConcurrency,
      requestTimeoutMs: aws.requestTimeout,
    },
    calculations: calculations.map((id) => id.toLowerCase()),
    cache: { ttlMs: cache.ttl, maxEntries: cache.maxEntries },
  });
}

/** Reads and validates a config file; a missing or unreadable file is named by its path. */
export async function loadConfig(path: string): Promise<Result<ExporterConfig, ConfigError>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code; // fs errors always carry a code
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory, not a file" : String(e);
    return err({ source: path, problems: [`cannot read config file: ${why}`] });
  }
  return parseConfig(text, path);
}
