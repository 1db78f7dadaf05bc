import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { z } from "zod";
import { echoText } from "./echo.js";
import { configError, parseYaml, readConfigFile, validate, type ConfigError } from "./config-file.js";
import { err, ok, type Result } from "../result.js";

/**
 * The Prometheus exporter-toolkit web configuration (--web.config.file):
 * TLS for the listener and bcrypt-hashed basic-auth users. The same file
 * works for node_exporter and friends; settings this exporter does not
 * implement are refused by name rather than ignored.
 */
export interface WebConfig {
  readonly tls:
    | {
        readonly cert: Buffer;
        readonly key: Buffer;
        readonly clientCa: Buffer | undefined;
        readonly clientAuth: ClientAuthType;
        readonly minVersion: "TLSv1.2" | "TLSv1.3";
      }
    | undefined;
  /** user name to bcrypt hash */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  /** The files it was read from (the web config, then its certificate, key and CA): a change to any means reading it again. */
  readonly files: readonly string[];
}

const CLIENT_AUTH_TYPES = [
  "NoClientCert",
  "RequestClientCert",
  "RequireAnyClientCert",
  "VerifyClientCertIfGiven",
  "RequireAndVerifyClientCert",
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const BCRYPT_RE = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

const schema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1),
      key_file: z.string().min(1),
      client_auth_type: z.enum(CLIENT_AUTH_TYPES).default("NoClientCert"),
      client_ca_file: z.string().min(1).optional(),
      min_version: z.enum(["TLS12", "TLS13"]).default("TLS12"),
    })
    .optional(),
  basic_auth_users: z
    .record(
      z.string().min(1),
      z.string().regex(BCRYPT_RE, { message: "must be a bcrypt hash (npm run --silent hash-password prints one)" }),
    )
    .optional(),
});

/** Reads and validates a web config file; relative paths in it are relative to the file. */
export async function loadWebConfig(file: string): Promise<Result<WebConfig, ConfigError>> {
  const text = await readConfigFile(file, "web config file");
  if (!text.ok) return text;
  const raw = parseYaml(text.value, file);
  if (!raw.ok) return raw;
  // An empty file is a valid web config: plain HTTP, no auth. Its values are
  // never shown: a plain-text password under basic_auth_users is a secret.
  const parsed = validate(schema, raw.value ?? {}, file, { unknownKey: "not supported by this exporter", echoValues: false });
  if (!parsed.ok) return parsed;
  const base = dirname(file);
  const users = new Map(Object.entries(parsed.value.basic_auth_users ?? {}));
  const tlsConfig = parsed.value.tls_server_config;
  if (tlsConfig === undefined) return ok({ tls: undefined, basicAuthUsers: users, files: [file] });
  const needsCa = tlsConfig.client_auth_type === "VerifyClientCertIfGiven" || tlsConfig.client_auth_type === "RequireAndVerifyClientCert";
  if (needsCa && tlsConfig.client_ca_file === undefined) {
    return err(
      configError("invalid", file, [`tls_server_config.client_ca_file: required with client_auth_type ${tlsConfig.client_auth_type}`]),
    );
  }
  const read = async (what: string, path: string | undefined): Promise<Result<Buffer | undefined, ConfigError>> => {
    if (path === undefined) return ok(undefined);
    try {
      return ok(await readFile(resolve(base, path)));
    } catch (e) {
      return err(
        configError("unreadable", file, [
          `tls_server_config.${what}: cannot read ${echoText(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        ]),
      );
    }
  };
  const cert = await read("cert_file", tlsConfig.cert_file);
  const key = await read("key_file", tlsConfig.key_file);
  const ca = await read("client_ca_file", tlsConfig.client_ca_file);
  for (const r of [cert, key, ca]) if (!r.ok) return r;
  if (!cert.ok || !key.ok || !ca.ok || cert.value === undefined || key.value === undefined) {
    return err(configError("invalid", file, ["tls_server_config: cert_file and key_file are required"]));
  }
  const tls = {
    cert: cert.value,
    key: key.value,
    clientCa: ca.value,
    clientAuth: tlsConfig.client_auth_type,
    minVersion: tlsConfig.min_version === "TLS13" ? "TLSv1.3" : "TLSv1.2",
  } as const;
  // Checked here, not when the first client connects: a certificate renewed in two writes is read
  // between them now and then, and that must be a refused reload, not a server that cannot handshake.
  try {
    createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }) });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return err(configError("invalid", file, [`tls_server_config: the certificate, key or CA cannot be used: ${reason}`]));
  }
  const files = [tlsConfig.cert_file, tlsConfig.key_file, tlsConfig.client_ca_file].flatMap((f) =>
    f === undefined ? [] : [resolve(base, f)],
  );
  return ok({ tls, basicAuthUsers: users, files: [file, ...files] });
}
