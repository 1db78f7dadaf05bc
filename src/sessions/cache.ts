import type { AthenaApi } from "../athena/client.js";
import { RefreshingCache, type CacheOptions, type Held } from "../refreshing-cache.js";
import { isSessionSettled, type Session } from "../athena/session.js";

export type SessionEntry = Held<Session>;
export type SessionCache = RefreshingCache<Session>;

/**
 * The sessions a target watches, fetched with GetSession: an active one
 * again after the TTL, an ended one with its DPU total never again. Sessions
 * are few (hundreds for many thousands of calculations), so a settled one
 * keeps its data.
 */
export function sessionCache(api: AthenaApi, options: CacheOptions): SessionCache {
  return new RefreshingCache<Session>(
    {
      logKey: "session_id",
      noun: "session",
      fetch: (id, _, signal) => api.getSession(id, signal),
      isSettled: isSessionSettled,
      keepSettled: (session) => session,
    },
    options,
  );
}
