/**
 * Runs `run` with a signal that aborts when `a` or `b` does, and unhooks it
 * from both once `run` settles. Not AbortSignal.any: a signal it makes stays
 * alive, with whatever listens to it, as long as its sources may abort, so one
 * made per call from a signal that lives as long as the process (the stop of
 * the exporter) is never collected.
 */
export async function whileEither<T>(a: AbortSignal, b: AbortSignal, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const either = new AbortController();
  const abort = (): void => either.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener("abort", abort);
  b.addEventListener("abort", abort);
  try {
    return await run(either.signal);
  } finally {
    a.removeEventListener("abort", abort);
    b.removeEventListener("abort", abort);
  }
}
