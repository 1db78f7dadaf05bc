// What a message may repeat of what a user wrote: a bad config value comes
// back in the startup error, the POST /-/reload answer and the logs, so it
// is cut short and loses any password of a URL first.

/** The longest stretch of user text a message repeats. */
export const ECHO_MAX_CHARS = 80;

// scheme://userinfo@ : everything up to the last @ before whitespace or a
// quote, so a password holding "/" or "@" goes too (over-hiding is harmless).
const USERINFO_RE = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'`<>]*@/gi;

/** Replaces the userinfo of every URL in `text` with `***`. */
export function redactUserinfo(text: string): string {
  return text.replace(USERINFO_RE, "$1***@");
}

/** Cuts `text` to `max` characters, the last being an ellipsis. */
export function cut(text: string, max: number = ECHO_MAX_CHARS): string {
  const chars = Array.from(text); // by code point, so no surrogate pair is split
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** User text as a message may show it: userinfo hidden, then cut. */
export function echoText(text: string, max: number = ECHO_MAX_CHARS): string {
  return cut(redactUserinfo(text), max);
}

/** A user's value as a message may show it; a string in JSON quotes. */
export function echoValue(value: unknown): string {
  return echoText(typeof value === "string" ? JSON.stringify(value) : String(value));
}
