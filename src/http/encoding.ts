import type { Request } from "express";

/** The content codings /metrics answers in. */
export type Encoding = "gzip" | "identity";

/**
 * The coding to answer `req` in, as RFC 9110 §12.5.3 negotiates it through
 * express's (negotiator's) reading of Accept-Encoding: q-values, `*`, and
 * identity acceptable unless refused by `identity;q=0` or `*;q=0`.
 * Undefined when the client accepts neither (406). No header at all means
 * identity: a client that says nothing may not know gzip.
 */
export function negotiateEncoding(req: Request): Encoding | undefined {
  if (req.get("Accept-Encoding") === undefined) return "identity";
  const chosen = req.acceptsEncodings("gzip", "identity");
  return chosen === "gzip" || chosen === "identity" ? chosen : undefined;
}
