/**
 * Runs a job now and then again every `intervalMs` after each run ends,
 * one run at a time, until stopped. It only schedules: what a run does and
 * what becomes of its result are the job's.
 */
export class Repeater {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** A run was asked for while one was in flight: the next starts as soon as it ends. */
  #again = false;
  readonly #abort = new AbortController();

  constructor(
    private intervalMs: number,
    private readonly job: (signal: AbortSignal) => Promise<void>,
  ) {}

  start(): void {
    this.#schedule(0);
  }

  /** A new interval; with `now`, the next run starts at once (or as soon as the one in flight ends). */
  reschedule(intervalMs: number, now: boolean): void {
    const changed = intervalMs !== this.intervalMs;
    this.intervalMs = intervalMs;
    if (this.#running === undefined && (now || changed)) this.#schedule(now ? 0 : intervalMs);
    else if (this.#running !== undefined && now) this.#again = true;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#running = this.job(this.#abort.signal)
        // A job reports its own failures; one that throws anyway must not end the schedule.
        .catch(() => undefined)
        .finally(() => {
          this.#running = undefined;
          const again = this.#again;
          this.#again = false;
          this.#schedule(again ? 0 : this.intervalMs);
        });
    }, delayMs);
  }
}
