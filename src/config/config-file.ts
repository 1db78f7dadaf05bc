import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { cut, echoText, echoValue, redactUserinfo } from "./echo.js";
import { err, ok, type Result } from "../result.js";

// Reading a YAML configuration file (--config.file, --web.config.file), and
// the one error type for what can go wrong with it.

/** Why a configuration file was refused. */
export type ConfigErrorCode =
  /** missing, a directory, or not ours to read */
  | "unreadable"
  /** not YAML */
  | "syntax"
  /** YAML, but not a valid configuration */
  | "invalid";

/** A configuration problem, worded for the person who edits the file. */
export interface ConfigError {
  readonly code: ConfigErrorCode;
  /** The file, as it was given. */
  readonly source: string;
  /** One line each, naming the key and the problem. */
  readonly problems: readonly string[];
}

// A safety net over whole lines; values inside them are already cut to ECHO_MAX_CHARS.
const PROBLEM_MAX_CHARS = 300;

/** Every problem is a single line, cut short, with no URL's password in it. */
export function configError(code: ConfigErrorCode, source: string, problems: readonly string[]): ConfigError {
  return { code, source, problems: problems.map((p) => cut(redactUserinfo(p.replace(/\s*\n\s*/g, " ")), PROBLEM_MAX_CHARS)) };
}

export function formatConfigError(error: ConfigError): string {
  return error.problems.length === 1
    ? `${error.source}: ${error.problems[0] ?? ""}`
    : `${error.source}:\n${error.problems.map((p) => `  - ${p}`).join("\n")}`;
}

function describeReadError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code; // fs errors always carry a code
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
      return "permission denied";
    case "EISDIR":
      return "is a directory, not a file";
    default:
      return code ?? String(e);
  }
}

/** Reads a file as text; `what` ("config file") names it in the error. */
export async function readConfigFile(path: string, what: string): Promise<Result<string, ConfigError>> {
  try {
    return ok(await readFile(path, "utf8"));
  } catch (e) {
    return err(configError("unreadable", path, [`cannot read ${what}: ${describeReadError(e)}`]));
  }
}

// Long enough for yaml's own messages with their "at line L, column C".
const YAML_MESSAGE_MAX_CHARS = 200;

/** Parses YAML text into plain data (null for an empty file); duplicate keys are errors. */
export function parseYaml(text: string, source: string): Result<unknown, ConfigError> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  // prettyErrors appends an excerpt of the file after the first line: only that line is kept.
  const firstLine = (message: string): string =>
    `YAML syntax error: ${echoText((message.split("\n")[0] ?? "").replace(/:$/, ""), YAML_MESSAGE_MAX_CHARS)}`;
  if (doc.errors.length > 0)
    return err(
      configError(
        "syntax",
        source,
        doc.errors.map((e) => firstLine(e.message)),
      ),
    );
  try {
    return ok(doc.toJS());
  } catch (e) {
    // An alias without its anchor, or too many aliases (a "billion laughs" file).
    return err(configError("syntax", source, [firstLine(e instanceof Error ? e.message : String(e))]));
  }
}

export interface IssueWording {
  /** Said of a key the schema does not know. */
  readonly unknownKey: string;
  /** Whether messages may show the bad value itself (cut short), or only its type. */
  readonly echoValues: boolean;
}

/** Validates parsed YAML against a schema; each problem names the key. */
export function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  source: string,
  wording: IssueWording,
): Result<z.output<S>, ConfigError> {
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (parsed.success) return ok(parsed.data);
  return err(
    configError(
      "invalid",
      source,
      parsed.error.issues.flatMap((issue) => describeIssue(issue, wording)),
    ),
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    const key = echoText(String(part));
    return acc === "" ? key : `${acc}.${key}`;
  }, "");
}

function describeIssue(issue: z.core.$ZodIssue, wording: IssueWording): string[] {
  const where = formatPath(issue.path);
  // Without echoValues, only a wrong type says what it got, and only the type.
  const received = wording.echoValues ? describeReceived(issue.input, true) : "";
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => `${where === "" ? echoText(key) : `${where}.${echoText(key)}`}: ${wording.unknownKey}`);
    case "invalid_type":
      if (issue.input === undefined) return [`${where}: is required`];
      return [
        `${where || "(top level)"}: expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}${describeReceived(issue.input, wording.echoValues)}`,
      ];
    case "too_small":
      if (issue.origin === "array") return [`${where}: must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? "" : "s"}`];
      return [`${where}: must be ${issue.inclusive === false ? "more than" : "at least"} ${String(issue.minimum)}${received}`];
    case "too_big":
      return [`${where}: must be at most ${String(issue.maximum)}${received}`];
    case "custom":
      return [`${where || "(top level)"}: ${issue.message}`];
    default:
      return [`${where || "(top level)"}: ${issue.message}${received}`];
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

function describeReceived(input: unknown, echoValues: boolean): string {
  if (input === undefined) return "";
  if (input === null) return ", got an empty value";
  if (Array.isArray(input)) return ", got a list";
  if (typeof input === "object") return ", got a mapping";
  return echoValues ? `, got ${typeof input} ${echoValue(input)}` : `, got a ${typeof input}`;
}
