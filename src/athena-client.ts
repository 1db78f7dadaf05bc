import { AthenaClient, GetCalculationExecutionCommand, GetSessionCommand, type AthenaClientConfig } from "@aws-sdk/client-athena";
import pLimit from "p-limit";
import { toCalculation, toWorkgroup } from "./athena-parse.js";
import { API_ERROR_CODES, classifyError, type ApiError } from "./athena-errors.js";
import type { Calculation } from "./calculation.js";
import type { ExporterConfig } from "./config.js";
import { err, ok, type Result } from "./result.js";
import type { ApiOperation, SelfMetrics } from "./self-metrics.js";

/** What the exporter needs from Athena, with failures as values. */
export interface AthenaApi {
  getCalculation(id: string, signal: AbortSignal): Promise<Result<Calculation, ApiError>>;
  getSessionWorkgroup(sessionId: string, signal: AbortSignal): Promise<Result<string, ApiError>>;
}

export interface AthenaClientOptions {
  /** Overrides the SDK's default provider chain; for the demo and tests only. */
  readonly credentials?: NonNullable<AthenaClientConfig["credentials"]>;
}

const OPERATIONS: readonly ApiOperation[] = ["GetCalculationExecution", "GetSession"];

export function createAthenaClient(aws: ExporterConfig["aws"], options: AthenaClientOptions = {}): AthenaClient {
  return new AthenaClient({
    ...(aws.region === undefined ? {} : { region: aws.region }),
    ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: aws.maxAttempts,
    requestHandler: { requestTimeout: aws.requestTimeoutMs, connectionTimeout: Math.min(aws.requestTimeoutMs, 5000) },
  });
}

/** The real Athena, through the SDK, with bounded concurrency and self-metrics on every call. */
export class SdkAthenaApi implements AthenaApi {
  readonly #limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly client: AthenaClient,
    private readonly metrics: SelfMetrics,
    private readonly requestTimeoutMs: number,
    maxConcurrency: number,
  ) {
    this.#limit = pLimit(maxConcurrency);
    metrics.initialise(OPERATIONS, API_ERROR_CODES);
  }

  async getCalculation(id: string, signal: AbortSignal): Promise<Result<Calculation, ApiError>> {
    const answer = await this.#call("GetCalculationExecution", signal, (abortSignal) =>
      this.client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: id }), { abortSignal }),
    );
    if (!answer.ok) return answer;
    return this.#parsed("GetCalculationExecution", toCalculation(id, answer.value));
  }

  async getSessionWorkgroup(sessionId: string, signal: AbortSignal): Promise<Result<string, ApiError>> {
    const answer = await this.#call("GetSession", signal, (abortSignal) =>
      this.client.send(new GetSessionCommand({ SessionId: sessionId }), { abortSignal }),
    );
    if (!answer.ok) return answer;
    return this.#parsed("GetSession", toWorkgroup(answer.value));
  }

  /** An answer that arrived but makes no sense counts as a failure of its operation. */
  #parsed<T>(operation: ApiOperation, parsed: Result<T, string>): Result<T, ApiError> {
    if (parsed.ok) return parsed;
    this.metrics.apiFailures.inc({ operation, error: "InvalidResponse" });
    return err({ code: "InvalidResponse", message: parsed.error });
  }

  async #call<T>(operation: ApiOperation, signal: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<Result<T, ApiError>> {
    return this.#limit(async () => {
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs * 3)]);
      this.metrics.apiRequests.inc({ operation });
      const stop = this.metrics.apiDuration.startTimer({ operation });
      try {
        return ok(await send(abortSignal));
      } catch (e) {
        const error = classifyError(e);
        this.metrics.apiFailures.inc({ operation, error: error.code });
        return err(error);
      } finally {
        stop();
      }
    });
  }
}
