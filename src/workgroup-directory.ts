import type { ApiError } from "./athena/errors.js";
import { err, ok, type Result } from "./result.js";
import type { SessionCache } from "./sessions/cache.js";

/**
 * A session's workgroup, which never changes: from discovery's listing when
 * it has it, else from the session cache, whose GetSession (once per
 * session, shared by all its calculations) also feeds the session's own
 * metrics.
 */
export class WorkgroupDirectory {
  /** The workgroup of each session discovery listed. */
  listed: ReadonlyMap<string, string> = new Map();

  constructor(private readonly sessions: SessionCache) {}

  async workgroupOf(sessionId: string, signal: AbortSignal): Promise<Result<string, ApiError>> {
    const listed = this.listed.get(sessionId);
    if (listed !== undefined) return ok(listed);
    const entry = this.sessions.peek(sessionId) ?? (await this.sessions.fetch(sessionId, signal));
    if (entry?.value !== undefined) return ok(entry.value.workgroup);
    return err(entry?.error ?? { code: "Other" as const, message: "GetSession gave no answer" });
  }
}
