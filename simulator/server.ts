import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TokenBucket } from "limiter";
import { fullBucket } from "../src/athena/token-bucket.js";
import { AthenaState, AwsError } from "./athena-state.js";
import { FaultPlan, hostileJson, mergeFields, type Fault } from "./faults.js";
import { isOperation, OPERATIONS, type Operation } from "./model.js";

const CONTENT_TYPE = "application/x-amz-json-1.1";
/** The account of callers that assumed no role. */
export const SIMULATED_ACCOUNT = "123456789012";
const TARGET_PREFIX = "AmazonAthena.";
const MAX_BODY_BYTES = 1 << 20;

export interface SimulatorOptions {
  readonly now?: () => number;
  /** Each answer waits a random time in [min, max] ms, like a real API. */
  readonly latencyMs?: readonly [number, number];
  /** Requests per second across all operations; beyond it, ThrottlingException, as Athena's quotas do. */
  readonly quotaPerSecond?: number;
}

/**
 * An HTTP server speaking Athena's AWS JSON 1.1 protocol, for tests, the demo
 * and benchmarks. Any AWS SDK pointed at it by AWS_ENDPOINT_URL_ATHENA parses
 * its answers: routing by X-Amz-Target, epoch-second timestamps, errors with
 * `__type` and AWS's status codes.
 */
export class AthenaSimulator {
  readonly state: AthenaState;
  readonly faults = new FaultPlan();
  latencyMs: readonly [number, number];
  readonly #calls = new Map<Operation, number>();
  readonly #callsById = new Map<string, number>();
  readonly #accessKeyIds = new Set<string>();
  /** Athena calls per signing access key ID and the region of its credential scope. */
  readonly #signedCalls = new Map<string, number>();
  /** Roles STS lets callers assume, with the external ID each requires. */
  readonly #roles = new Map<string, string | undefined>();
  /** Access key IDs STS issued, and the role each belongs to. */
  readonly #issuedKeys = new Map<string, string>();
  readonly #quota: TokenBucket | undefined;
  #throttled = 0;
  #server: Server | undefined;

  constructor(options: SimulatorOptions = {}) {
    this.state = new AthenaState(options.now);
    this.latencyMs = options.latencyMs ?? [0, 0];
    this.#quota = options.quotaPerSecond === undefined ? undefined : fullBucket(options.quotaPerSecond);
  }

  /** Requests refused for exceeding the quota. */
  get throttled(): number {
    return this.#throttled;
  }

  /** Calls received for `operation` (all operations when absent), optionally for one resource ID. */
  calls(operation?: Operation, resourceId?: string): number {
    if (resourceId !== undefined) {
      let sum = 0;
      for (const op of OPERATIONS) {
        if (operation === undefined || op === operation) sum += this.#callsById.get(`${op}/${resourceId}`) ?? 0;
      }
      return sum;
    }
    if (operation !== undefined) return this.#calls.get(operation) ?? 0;
    return [...this.#calls.values()].reduce((a, b) => a + b, 0);
  }

  resetCalls(): void {
    this.#calls.clear();
    this.#callsById.clear();
  }

  /** The access key IDs that signed requests (from the Authorization header's credential scope). */
  accessKeyIds(): readonly string[] {
    return [...this.#accessKeyIds];
  }

  /** How long the credentials STS hands out last. */
  credentialLifetimeMs = 3_600_000;
  /** GetCallerIdentity calls answered. */
  callerIdentityCalls = 0;
  /** AssumeRole calls answered, granted or denied. */
  assumeRoleCalls = 0;

  /** Lets STS AssumeRole hand out credentials for `arn` (requiring `externalId` when given). */
  allowRole(arn: string, externalId?: string): void {
    this.#roles.set(arn, externalId);
  }

  /** The role whose assumed credentials carry this access key ID. */
  roleOf(accessKeyId: string): string | undefined {
    return this.#issuedKeys.get(accessKeyId);
  }

  /** Athena calls signed by each access key ID, as "KEY region" → count. */
  signedCalls(): ReadonlyMap<string, number> {
    return this.#signedCalls;
  }

  injectFault(fault: Fault): void {
    this.faults.add(fault);
  }

  async start(port = 0, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => {
      this.#serve(req, res).catch(() => res.destroy());
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    const address = server.address() as AddressInfo; // listening on TCP, so an AddressInfo
    return `http://${host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader("x-amzn-RequestId", requestId);
    const body = await readBody(req);
    if (req.method !== "POST") {
      sendError(res, new AwsError("UnknownOperationException", 404, `Method ${req.method ?? ""} not allowed`));
      return;
    }
    const target = req.headers["x-amz-target"];
    if (target === undefined && (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      const signer = /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1];
      this.#serveSts(new URLSearchParams(body), res, signer);
      return;
    }
    this.#recordCredential(req.headers.authorization);
    const name = typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
    if (!isOperation(name)) {
      sendError(res, new AwsError("UnknownOperationException", 400, `Unknown operation ${String(target)}`));
      return;
    }
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body === "" ? {} : JSON.parse(body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      input = parsed as Record<string, unknown>; // checked just above to be a plain object
    } catch {
      sendError(res, new AwsError("SerializationException", 400, "Request body is not a JSON object"));
      return;
    }
    const resourceId = firstString(input.CalculationExecutionId, input.SessionId, input.WorkGroup, workGroupOfArn(input.ResourceARN));
    this.#count(name, resourceId);

    const [min, max] = this.latencyMs;
    if (max > 0) await sleep(min + Math.random() * (max - min));

    if (this.#quota !== undefined && !this.#quota.tryRemoveTokens(1)) {
      this.#throttled++;
      sendError(res, new AwsError("ThrottlingException", 400, "Rate exceeded"));
      return;
    }

    const fault = this.faults.take(name, resourceId);
    if (fault && (await this.#applyFault(fault, res))) return;

    let answer: Record<string, unknown>;
    try {
      answer = this.state.handle(name, input);
    } catch (e) {
      if (e instanceof AwsError) sendError(res, e);
      else sendError(res, new AwsError("InternalServerException", 500, "Internal error"));
      return;
    }
    if (fault?.kind === "override-fields") send(res, 200, hostileJson(mergeFields(answer, fault.fields)));
    else send(res, 200, JSON.stringify(answer));
  }

  /** Returns true when the fault has answered the request itself. */
  async #applyFault(fault: Fault, res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case "raw-answer":
        send(res, 200, hostileJson(fault.body));
        return true;
      case "override-fields":
        return false; // applied to the real answer
      case "delay":
        await sleep(fault.delayMs ?? 1000);
        return false;
      case "ThrottlingException":
        sendError(res, new AwsError("ThrottlingException", 400, "Rate exceeded"));
        return true;
      case "TooManyRequestsException":
        sendError(res, new AwsError("TooManyRequestsException", 400, "Too many requests"));
        return true;
      case "InternalServerException":
        sendError(res, new AwsError("InternalServerException", 500, "Internal server error"));
        return true;
      case "InvalidRequestException":
        sendError(res, new AwsError("InvalidRequestException", 400, "Invalid request"));
        return true;
      case "ResourceNotFoundException":
        sendError(res, new AwsError("ResourceNotFoundException", 400, "Resource not found"));
        return true;
      case "ExpiredTokenException":
        sendError(res, new AwsError("ExpiredTokenException", 400, "The security token included in the request is expired"));
        return true;
      case "malformed-json":
        send(res, 200, '{"CalculationExecutionId": <html>oops');
        return true;
      case "truncated-json":
        send(res, 200, '{"CalculationExecutionId":"0f6b2b3e-1111-4c4b-9d07-6a8c');
        return true;
      case "unknown-state":
        send(
          res,
          200,
          JSON.stringify({
            CalculationExecutionId: "0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11",
            SessionId: "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01",
            Status: { State: "HIBERNATING" },
          }),
        );
        return true;
      case "missing-fields":
        send(res, 200, JSON.stringify({ Description: "an answer without Status or SessionId" }));
        return true;
      case "connection-reset":
        res.socket?.destroy();
        return true;
      default: {
        const unreachable: never = fault;
        return unreachable;
      }
    }
  }

  #count(operation: Operation, resourceId: string | undefined): void {
    this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
    if (resourceId !== undefined) {
      const key = `${operation}/${resourceId}`;
      this.#callsById.set(key, (this.#callsById.get(key) ?? 0) + 1);
    }
  }

  #recordCredential(authorization: string | undefined): void {
    // "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/athena/aws4_request, ..."
    const match = authorization === undefined ? null : /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(authorization);
    if (match?.[1] === undefined) return;
    this.#accessKeyIds.add(match[1]);
    const key = `${match[1]} ${match[2] ?? ""}`;
    this.#signedCalls.set(key, (this.#signedCalls.get(key) ?? 0) + 1);
  }

  /**
   * STS AssumeRole and GetCallerIdentity on the AWS query protocol, answered
   * in XML as STS does. The caller's account is its role's, for keys STS
   * issued, else SIMULATED_ACCOUNT.
   */
  #serveSts(params: URLSearchParams, res: ServerResponse, signer: string | undefined): void {
    const xml = (status: number, body: string): void => {
      res.writeHead(status, { "Content-Type": "text/xml" });
      res.end(body);
    };
    const fail = (status: number, code: string, message: string): void => {
      xml(
        status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    };
    if (params.get("Action") === "GetCallerIdentity") {
      this.callerIdentityCalls++;
      const role = signer === undefined ? undefined : this.#issuedKeys.get(signer);
      const account = /^arn:[^:]*:iam::(\d{12}):/.exec(role ?? "")?.[1] ?? SIMULATED_ACCOUNT;
      const arn = role === undefined ? `arn:aws:iam::${account}:user/simulated` : role.replace(":role/", ":assumed-role/");
      xml(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AIDASIMULATED</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
      return;
    }
    if (params.get("Action") !== "AssumeRole") {
      fail(400, "InvalidAction", "Only AssumeRole and GetCallerIdentity are simulated");
      return;
    }
    this.assumeRoleCalls++;
    const arn = params.get("RoleArn") ?? "";
    if (!this.#roles.has(arn) || this.#roles.get(arn) !== (params.get("ExternalId") ?? undefined)) {
      fail(403, "AccessDenied", `User is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
      return;
    }
    const accessKeyId = `ASIA${createHash("sha256").update(`${arn}/${randomUUID()}`).digest("hex").slice(0, 16).toUpperCase()}`;
    this.#issuedKeys.set(accessKeyId, arn);
    const expiration = new Date(Date.now() + this.credentialLifetimeMs).toISOString();
    const session = params.get("RoleSessionName") ?? "session";
    xml(
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>simulated-secret-${randomUUID()}</SecretAccessKey><SessionToken>simulated-token-${randomUUID()}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASIMULATED:${session}</AssumedRoleId><Arn>${arn.replace(":role/", ":assumed-role/")}/${session}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }
}

/** The workgroup name in a workgroup ARN ("arn:aws:athena:REGION:ACCOUNT:workgroup/NAME"), or the ARN itself for any other. */
function workGroupOfArn(arn: unknown): unknown {
  if (typeof arn !== "string") return arn;
  return /^arn:[^:]*:athena:[^:]*:[^:]*:workgroup\/(.+)$/.exec(arn)?.[1] ?? arn;
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === "string");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer; // http request streams yield Buffers
    size += buf.length;
    if (size > MAX_BODY_BYTES) break;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": CONTENT_TYPE, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, error: AwsError): void {
  res.setHeader("x-amzn-ErrorType", error.type);
  send(res, error.status, JSON.stringify({ __type: error.type, Message: error.message, ...error.fields }));
}
