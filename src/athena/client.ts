import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetSessionCommand,
  GetWorkGroupCommand,
  ListTagsForResourceCommand,
  ListCalculationExecutionsCommand,
  ListExecutorsCommand,
  ListSessionsCommand,
  ListWorkGroupsCommand,
  type AthenaClientConfig,
} from "@aws-sdk/client-athena";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { TokenBucket } from "limiter";
import type { Logger } from "pino";
import pLimit from "p-limit";
import { whileEither } from "../either-signal.js";
import { fullBucket } from "./token-bucket.js";
import {
  toExecutor,
  toCalculation,
  toCalculationSummary,
  toSession,
  toSessionSummary,
  toTag,
  toWorkGroupDetail,
  toWorkGroupSummary,
} from "./parse.js";
import type { Session, SessionState } from "./session.js";
import { API_ERROR_CODES, classifyError, type ApiError } from "./errors.js";
import type { Calculation, CalculationSummary } from "./calculation.js";
import type { Executor } from "./executor.js";
import type { SessionSummary, WorkGroupSummary } from "./session.js";
import type { AwsSettings } from "./settings.js";
import { err, ok, type Result } from "../result.js";
import { API_OPERATIONS, type ApiMetrics, type ApiOperation } from "./api-metrics.js";

/** What the exporter needs from Athena, with failures as values. */
export interface AthenaApi {
  getCalculation(id: string, signal: AbortSignal): Promise<Result<Calculation, ApiError>>;
  getSession(sessionId: string, signal: AbortSignal): Promise<Result<Session, ApiError>>;
  getWorkGroup(name: string, signal: AbortSignal): Promise<Result<WorkGroupSummary, ApiError>>;
  listWorkGroups(signal: AbortSignal): Promise<Result<WorkGroupSummary[], ApiError>>;
  /** A workgroup's tags (ListTagsForResource on its ARN, whose account comes from STS GetCallerIdentity). */
  listWorkGroupTags(name: string, signal: AbortSignal): Promise<Result<ReadonlyMap<string, string>, ApiError>>;
  /** Athena lists active sessions (CREATING, CREATED, IDLE, BUSY) unless a state is asked for; newest first. */
  listSessions(workgroup: string, signal: AbortSignal, options?: SessionListing): Promise<Result<SessionSummary[], ApiError>>;
  /** Newest first; paging ends at the first calculation `stopAt` accepts, which is left out with all after it. */
  listCalculations(
    sessionId: string,
    signal: AbortSignal,
    stopAt?: (calculation: CalculationSummary) => boolean,
  ): Promise<Result<CalculationSummary[], ApiError>>;
  /**
   * A session's executors, newest first; paging ends at the first executor
   * `stopAt` accepts, which is left out with all after it. One summary that
   * makes no sense fails the listing (an InvalidResponse naming it).
   */
  listExecutors(sessionId: string, signal: AbortSignal, stopAt?: (executor: Executor) => boolean): Promise<Result<Executor[], ApiError>>;
}

/** Which sessions ListSessions pages through. */
export interface SessionListing {
  /** Only sessions in this state (ended ones included); the active ones when absent. */
  readonly state?: SessionState;
  /** Paging ends at the first session this accepts, which is left out with all after it (they are older). */
  readonly stopAt?: (session: SessionSummary) => boolean;
}

/** The credentials the SDK signs with; the default provider chain when absent. */
export type AwsCredentials = NonNullable<AthenaClientConfig["credentials"]>;

/**
 * Builds the Athena API of one target from its AWS settings. The exporter
 * builds every API through one of these, so tests and the demo bring their
 * own credentials (or a double) here rather than through optional hooks.
 */
export type AthenaApiFactory = (aws: AwsSettings, metrics: ApiMetrics) => AthenaApi;

/**
 * The real Athena through the SDK, signed with `credentials` or else the SDK's
 * default chain; with a logger, every call is logged at debug level.
 */
export function sdkAthenaApis(credentials?: AwsCredentials, logger?: Logger): AthenaApiFactory {
  return (aws, metrics) => new SdkAthenaApi(createAthenaClient(aws, credentials), metrics, aws, logger);
}

/**
 * What to do when the SDK finds no credentials: the commonest first failure of a
 * newcomer (no AWS at hand, or the standalone simulator without fake keys). The
 * error of every failed call says what fixes it; the longer hint is logged once.
 */
export const MISSING_CREDENTIALS =
  "the SDK's default chain found no AWS credentials; the simulator (AWS_ENDPOINT_URL_ATHENA) takes any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
export const MISSING_CREDENTIALS_HINT =
  "no AWS credentials: give the exporter some (environment, profile or SSO, web identity, container or instance role), " +
  "set any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the simulator, which checks no signature, " +
  "or run `npm run demo` to try the exporter without AWS";

const describeList = (value: unknown): string => (value === undefined || value === null ? "missing" : `a ${typeof value}, not a list`);

/** Once per process: every target and every call fails the same way, and one hint is enough. */
let credentialsHinted = false;

const LIST_PAGE_SIZE = 100;
/**
 * A listing longer than this many pages is taken for a runaway one: it ends
 * as a failure rather than as a result that looks complete.
 */
const MAX_PAGES = 1000;

/**
 * With a role, credentials come from STS AssumeRole, signed by the default
 * chain's identity (or the given one); the SDK refreshes them before they
 * expire.
 */
function credentialsFor(aws: AwsSettings, credentials: AwsCredentials | undefined): AwsCredentials | undefined {
  if (aws.role === undefined) return credentials;
  return fromTemporaryCredentials({
    params: {
      RoleArn: aws.role.arn,
      RoleSessionName: aws.role.sessionName,
      DurationSeconds: 3600,
      ...(aws.role.externalId === undefined ? {} : { ExternalId: aws.role.externalId }),
    },
    ...(credentials === undefined ? {} : { masterCredentials: credentials }),
    clientConfig: {
      ...(aws.region === undefined ? {} : { region: aws.region }),
      ...(aws.stsEndpoint === undefined ? {} : { endpoint: aws.stsEndpoint }),
      maxAttempts: aws.maxAttempts,
    },
  });
}

export function createAthenaClient(aws: AwsSettings, credentials?: AwsCredentials): AthenaClient {
  const signing = credentialsFor(aws, credentials);
  return new AthenaClient({
    ...(aws.region === undefined ? {} : { region: aws.region }),
    ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
    ...(signing === undefined ? {} : { credentials: signing }),
    maxAttempts: aws.maxAttempts,
    retryMode: aws.retryMode,
    requestHandler: {
      requestTimeout: aws.requestTimeoutMs,
      connectionTimeout: Math.min(aws.requestTimeoutMs, 5000),
      throwOnRequestTimeout: true,
    },
  });
}

/**
 * The real Athena, through the SDK: bounded concurrency, a token bucket over
 * every request (and a smaller one over List* calls), and self-metrics on
 * every call and every throttled attempt.
 */
export class SdkAthenaApi implements AthenaApi {
  readonly #concurrency: ReturnType<typeof pLimit>;
  readonly #requests: TokenBucket;
  readonly #lists: TokenBucket;
  #account: Promise<Result<string, ApiError>> | undefined;

  constructor(
    private readonly client: AthenaClient,
    private readonly metrics: ApiMetrics,
    private readonly aws: AwsSettings,
    private readonly logger?: Logger,
  ) {
    this.#concurrency = pLimit(aws.maxConcurrency);
    this.#requests = fullBucket(aws.requestsPerSecond);
    this.#lists = fullBucket(aws.listRequestsPerSecond);
    metrics.initialise(API_OPERATIONS, API_ERROR_CODES);
    // Runs once per HTTP attempt (inside the SDK's retry loop), so throttled
    // attempts that a retry later hides are still counted.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (e) {
          if (classifyError(e).code === "ThrottlingException") {
            metrics.throttled(context.commandName?.replace(/Command$/, "") ?? "unknown");
          }
          throw e;
        }
      },
      { step: "finalizeRequest", priority: "low", name: "countThrottledAttempts" },
    );
  }

  async getCalculation(id: string, signal: AbortSignal): Promise<Result<Calculation, ApiError>> {
    const answer = await this.#call("GetCalculationExecution", signal, (abortSignal) =>
      this.client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: id }), { abortSignal }),
    );
    if (!answer.ok) return answer;
    return this.#parsed("GetCalculationExecution", toCalculation(id, answer.value));
  }

  async getSession(sessionId: string, signal: AbortSignal): Promise<Result<Session, ApiError>> {
    const answer = await this.#call("GetSession", signal, (abortSignal) =>
      this.client.send(new GetSessionCommand({ SessionId: sessionId }), { abortSignal }),
    );
    if (!answer.ok) return answer;
    return this.#parsed("GetSession", toSession(sessionId, answer.value));
  }

  async getWorkGroup(name: string, signal: AbortSignal): Promise<Result<WorkGroupSummary, ApiError>> {
    const answer = await this.#call("GetWorkGroup", signal, (abortSignal) =>
      this.client.send(new GetWorkGroupCommand({ WorkGroup: name }), { abortSignal }),
    );
    if (!answer.ok) return answer;
    return this.#parsed("GetWorkGroup", toWorkGroupDetail(name, answer.value));
  }

  async listWorkGroupTags(name: string, signal: AbortSignal): Promise<Result<ReadonlyMap<string, string>, ApiError>> {
    const arn = await this.#workgroupArn(name, signal);
    if (!arn.ok) return arn;
    const pages = await this.#pages("ListTagsForResource", signal, async (NextToken, abortSignal) => {
      const page = await this.client.send(new ListTagsForResourceCommand({ ResourceARN: arn.value, MaxResults: 100, NextToken }), {
        abortSignal,
      });
      return { items: (page.Tags ?? []).map(toTag), next: page.NextToken };
    });
    return pages.ok ? ok(new Map(pages.value)) : pages;
  }

  /**
   * arn:PARTITION:athena:REGION:ACCOUNT:workgroup/NAME. The account is the
   * one the calls are signed for (the assumed role's, with a role), asked
   * of STS once; GetCallerIdentity needs no permission.
   */
  async #workgroupArn(name: string, signal: AbortSignal): Promise<Result<string, ApiError>> {
    this.#account ??= this.#call("GetCallerIdentity", signal, async (abortSignal) => {
      const sts = new STSClient({
        region: await this.client.config.region(),
        credentials: this.client.config.credentials,
        maxAttempts: this.aws.maxAttempts,
        ...(this.aws.stsEndpoint === undefined ? {} : { endpoint: this.aws.stsEndpoint }),
      });
      try {
        const identity = await sts.send(new GetCallerIdentityCommand({}), { abortSignal });
        if (identity.Account === undefined || !/^\d{12}$/.test(identity.Account))
          throw new SyntaxError("GetCallerIdentity gave no account");
        return identity.Account;
      } finally {
        sts.destroy();
      }
    });
    const account = await this.#account;
    if (!account.ok) {
      this.#account = undefined; // asked again next time
      return account;
    }
    const region = await this.client.config.region();
    const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
    return ok(`arn:${partition}:athena:${region}:${account.value}:workgroup/${name}`);
  }

  listWorkGroups(signal: AbortSignal): Promise<Result<WorkGroupSummary[], ApiError>> {
    return this.#pages("ListWorkGroups", signal, async (NextToken, abortSignal) => {
      const page = await this.client.send(new ListWorkGroupsCommand({ MaxResults: 50, NextToken }), { abortSignal });
      return { items: (page.WorkGroups ?? []).map(toWorkGroupSummary), next: page.NextToken };
    });
  }

  listSessions(workgroup: string, signal: AbortSignal, options: SessionListing = {}): Promise<Result<SessionSummary[], ApiError>> {
    const { state, stopAt } = options;
    return this.#pages(
      "ListSessions",
      signal,
      async (NextToken, abortSignal) => {
        const page = await this.client.send(
          new ListSessionsCommand({
            WorkGroup: workgroup,
            MaxResults: LIST_PAGE_SIZE,
            NextToken,
            ...(state === undefined ? {} : { StateFilter: state }),
          }),
          { abortSignal },
        );
        return { items: (page.Sessions ?? []).map((s) => toSessionSummary(s, workgroup)), next: page.NextToken };
      },
      stopAt,
    );
  }

  listCalculations(
    sessionId: string,
    signal: AbortSignal,
    stopAt?: (calculation: CalculationSummary) => boolean,
  ): Promise<Result<CalculationSummary[], ApiError>> {
    return this.#pages(
      "ListCalculationExecutions",
      signal,
      async (NextToken, abortSignal) => {
        const page = await this.client.send(
          new ListCalculationExecutionsCommand({ SessionId: sessionId, MaxResults: LIST_PAGE_SIZE, NextToken }),
          { abortSignal },
        );
        return { items: (page.Calculations ?? []).map((c) => toCalculationSummary(c, sessionId)), next: page.NextToken };
      },
      stopAt,
    );
  }

  listExecutors(sessionId: string, signal: AbortSignal, stopAt?: (executor: Executor) => boolean): Promise<Result<Executor[], ApiError>> {
    return this.#pages(
      "ListExecutors",
      signal,
      async (NextToken, abortSignal) => {
        const page = await this.client.send(new ListExecutorsCommand({ SessionId: sessionId, MaxResults: LIST_PAGE_SIZE, NextToken }), {
          abortSignal,
        });
        // The SDK types the list as always there; a hostile answer may leave it out, or send another thing.
        const summaries: unknown = page.ExecutorsSummary;
        const items = Array.isArray(summaries) ? summaries.map(toExecutor) : [err(`ExecutorsSummary is ${describeList(summaries)}`)];
        return { items, next: page.NextToken };
      },
      stopAt,
      true,
    );
  }

  /**
   * Follows NextToken until the last page, or the first item `stopAt`
   * accepts; summaries that make no sense are left out (they have no ID or
   * state), unless `strict`, where one fails the listing. A token given twice, or more pages than MAX_PAGES, ends the
   * listing as a failure: its items would look complete and are not.
   */
  async #pages<T>(
    operation: ApiOperation,
    signal: AbortSignal,
    fetchPage: (token: string | undefined, signal: AbortSignal) => Promise<{ items: Result<T, string>[]; next: string | undefined }>,
    stopAt?: (item: T) => boolean,
    strict = false,
  ): Promise<Result<T[], ApiError>> {
    const all: T[] = [];
    const tokens = new Set<string>();
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.#call(operation, signal, (abortSignal) => fetchPage(token, abortSignal));
      if (!answer.ok) return answer;
      for (const item of answer.value.items) {
        if (!item.ok) {
          if (strict) return this.#runaway(operation, `${operation} answered with a summary that makes no sense: ${item.error}`);
          this.metrics.failed(operation, "InvalidResponse");
          continue;
        }
        if (stopAt?.(item.value) === true) return ok(all);
        all.push(item.value);
      }
      token = answer.value.next;
      if (token === undefined || token === "") return ok(all);
      if (tokens.has(token)) return this.#runaway(operation, `${operation} gave the same NextToken twice: the listing loops`);
      tokens.add(token);
    }
    return this.#runaway(operation, `${operation} gave more than ${MAX_PAGES} pages: the listing was cut short`);
  }

  #runaway<T>(operation: ApiOperation, message: string): Result<T, ApiError> {
    this.metrics.failed(operation, "InvalidResponse");
    return err({ code: "InvalidResponse", message });
  }

  /** An answer that arrived but makes no sense counts as a failure of its operation. */
  #parsed<T>(operation: ApiOperation, parsed: Result<T, string>): Result<T, ApiError> {
    if (parsed.ok) return parsed;
    this.metrics.failed(operation, "InvalidResponse");
    return err({ code: "InvalidResponse", message: parsed.error });
  }

  async #call<T>(operation: ApiOperation, signal: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<Result<T, ApiError>> {
    return this.#concurrency(async () => {
      if (operation.startsWith("List")) await this.#lists.removeTokens(1);
      await this.#requests.removeTokens(1);
      const stop = this.metrics.started(operation);
      const started = performance.now();
      const duration = (): number => Math.round(performance.now() - started);
      try {
        // Retries included, one call may take maxAttempts request timeouts. Not AbortSignal.any, whose signal
        // lives as long as discovery's or the stop's (either-signal.ts says why).
        const timeout = AbortSignal.timeout(this.aws.requestTimeoutMs * this.aws.maxAttempts + 1000);
        const answer = await whileEither(signal, timeout, send);
        this.logger?.debug({ operation, duration_ms: duration(), outcome: "ok" }, "athena call");
        return ok(answer);
      } catch (e) {
        // The caller gave up (a reload, a shutdown, an entry dropped): nothing failed.
        if (signal.aborted) {
          this.logger?.debug({ operation, duration_ms: duration(), outcome: "aborted" }, "athena call");
          return err({ code: "Timeout", message: "aborted by the caller", aborted: true });
        }
        let error = classifyError(e);
        this.logger?.debug({ operation, duration_ms: duration(), outcome: error.code, error: error.message }, "athena call");
        if (error.code === "MissingCredentials") {
          error = { code: error.code, message: MISSING_CREDENTIALS };
          if (!credentialsHinted) this.logger?.error({ operation }, MISSING_CREDENTIALS_HINT);
          credentialsHinted = true;
        }
        this.metrics.failed(operation, error.code);
        return err(error);
      } finally {
        stop();
      }
    });
  }
}
