/**
 * What the Athena client is built from: the `aws` section of the config,
 * declared here, by the client that uses it, so that nothing below the
 * config has to load the config to know its shape.
 */
export interface AwsSettings {
  /** Undefined: the SDK's region chain (AWS_REGION, profile, instance metadata). */
  readonly region: string | undefined;
  /** Undefined: the SDK's endpoint resolution, which honours AWS_ENDPOINT_URL_ATHENA. */
  readonly endpoint: string | undefined;
  readonly maxAttempts: number;
  readonly retryMode: "standard" | "adaptive";
  readonly maxConcurrency: number;
  /** Token bucket over every Athena request. */
  readonly requestsPerSecond: number;
  /** A second, smaller bucket for the List* calls of discovery. */
  readonly listRequestsPerSecond: number;
  readonly requestTimeoutMs: number;
  /** A role to assume through STS; undefined: the default credential chain's own identity. */
  readonly role: RoleSettings | undefined;
  /** Undefined: the SDK's STS endpoint resolution, which honours AWS_ENDPOINT_URL_STS. */
  readonly stsEndpoint: string | undefined;
}

export interface RoleSettings {
  readonly arn: string;
  readonly externalId: string | undefined;
  readonly sessionName: string;
}
