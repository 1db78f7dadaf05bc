import { unwatchFile, watchFile, type Stats } from "node:fs";

/** Changes closer together than this are one change: a certificate and its key are written one after the other. */
const SETTLE_MS = 200;

/**
 * Calls `changed` once the files settle after any of them changed (content,
 * or what a path names: a Kubernetes secret is swapped by a symlink). Polls
 * with stat, as fs.watch misses files replaced by rename or symlink; the
 * polling never keeps the process alive. Returns the function that stops it.
 */
export function watchFiles(files: readonly string[], intervalMs: number, changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const listener = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    clearTimeout(timer);
    timer = setTimeout(changed, SETTLE_MS);
    timer.unref();
  };
  for (const file of files) watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => {
    clearTimeout(timer);
    for (const file of files) unwatchFile(file, listener);
  };
}
