/**
 * Why a call to Athena failed, as a bounded set of codes: these become label
 * values, so free text stays out of them and goes to the logs instead.
 */
export const API_ERROR_CODES = [
  "ResourceNotFoundException",
  "InvalidRequestException",
  "InternalServerException",
  "ThrottlingException",
  "AccessDeniedException",
  "ExpiredCredentials",
  "MissingCredentials",
  "Timeout",
  "NetworkError",
  "InvalidResponse",
  "Other",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  readonly code: ApiErrorCode;
  /** For logs and pages; never a label value. */
  readonly message: string;
  /**
   * Set when the caller gave up on the call (a reload, a shutdown, an entry
   * dropped mid-flight): nothing failed, so it is neither counted nor logged.
   */
  readonly aborted?: true;
}

/**
 * Why a calculation's data is not fresh: an API error, or "Pending" when
 * Athena has not answered yet since the calculation began to be watched.
 */
export const REFRESH_ERROR_CODES = [...API_ERROR_CODES, "Pending"] as const;
export type RefreshErrorCode = (typeof REFRESH_ERROR_CODES)[number];

const BY_NAME: Readonly<Record<string, ApiErrorCode>> = {
  ResourceNotFoundException: "ResourceNotFoundException",
  InvalidRequestException: "InvalidRequestException",
  ValidationException: "InvalidRequestException",
  InternalServerException: "InternalServerException",
  InternalFailure: "InternalServerException",
  ServiceUnavailable: "InternalServerException",
  ThrottlingException: "ThrottlingException",
  TooManyRequestsException: "ThrottlingException",
  Throttling: "ThrottlingException",
  RequestLimitExceeded: "ThrottlingException",
  AccessDeniedException: "AccessDeniedException",
  // STS's answer when a role may not be assumed.
  AccessDenied: "AccessDeniedException",
  UnrecognizedClientException: "AccessDeniedException",
  InvalidSignatureException: "AccessDeniedException",
  ExpiredTokenException: "ExpiredCredentials",
  ExpiredToken: "ExpiredCredentials",
  CredentialsProviderError: "MissingCredentials",
  TimeoutError: "Timeout",
  AbortError: "Timeout",
  RequestTimeout: "Timeout",
  SyntaxError: "InvalidResponse",
  // What the SDK's deserializer throws on a field it cannot read (a string for a timestamp, say).
  TypeError: "InvalidResponse",
};

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** Classifies anything the SDK throws. */
export function classifyError(error: unknown): ApiError {
  if (!(error instanceof Error)) return { code: "Other", message: String(error) };
  const fromName = BY_NAME[error.name];
  const code = (error as { code?: unknown }).code; // Node system errors carry a string code
  const message = oneLine(error.message);
  // The SDK names a reset socket "TimeoutError"; its system code says what happened.
  if (typeof code === "string" && NETWORK_CODES.has(code)) return { code: "NetworkError", message };
  if (fromName !== undefined) return { code: fromName, message };
  if (typeof code === "string" && code === "ETIMEDOUT") return { code: "Timeout", message };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return { code: "InternalServerException", message };
  return { code: "Other", message: `${error.name}: ${message}` };
}

function oneLine(text: string): string {
  return text.split("\n")[0]?.slice(0, 300) ?? "";
}
