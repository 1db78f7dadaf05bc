import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";
import type { NextFunction, Request, Response } from "express";
import { LRUCache } from "lru-cache";

// Compared against when the user does not exist, so a wrong user name costs
// the same time as a wrong password.
const DUMMY_HASH = "$2a$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/**
 * HTTP basic auth against bcrypt hashes, as exporter-toolkit does. bcrypt is
 * slow on purpose, so a verified (user, password) pair is remembered by a
 * SHA-256 of both, never the password itself, for scrapes to stay cheap.
 * Failures are not remembered: each wrong guess pays the full bcrypt cost.
 * The users are asked for on every request, so a reloaded web config applies
 * at once; the remembered pair includes the hash it matched, so a changed or
 * removed password stops working with the reload.
 */
export function basicAuth(users: () => ReadonlyMap<string, string>): (req: Request, res: Response, next: NextFunction) => void {
  const verified = new LRUCache<string, true>({ max: 1024, ttl: 10 * 60_000 });
  const refuse = (res: Response): void => {
    res.status(401).set("WWW-Authenticate", 'Basic realm="athena-calculation-exporter"').type("text/plain").send("401 unauthorized\n");
  };
  return (req, res, next) => {
    const header = req.get("authorization") ?? "";
    // The scheme is case-insensitive and followed by one or more spaces (RFC 9110, section 11.1).
    const match = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    if (match?.[1] === undefined) {
      refuse(res);
      return;
    }
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? "" : decoded.slice(colon + 1);
    const hash = users().get(user);
    const key = createHash("sha256")
      .update(user)
      .update("\0")
      .update(password)
      .update("\0")
      .update(hash ?? "")
      .digest("base64");
    if (hash !== undefined && verified.has(key)) {
      next();
      return;
    }
    bcrypt.compare(password, hash ?? DUMMY_HASH).then(
      (matches) => {
        if (!matches || hash === undefined) {
          refuse(res);
          return;
        }
        verified.set(key, true);
        next();
      },
      () => refuse(res),
    );
  };
}
