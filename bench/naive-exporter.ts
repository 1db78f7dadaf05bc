import { AthenaClient, GetCalculationExecutionCommand } from "@aws-sdk/client-athena";
import pLimit from "p-limit";
import { Gauge, Registry } from "prom-client";

/**
 * The baseline: a straightforward prom-client exporter that calls
 * GetCalculationExecution for every ID on every scrape, then resets and
 * refills its gauges. No cache, no rate limit.
 */
export class NaiveExporter {
  readonly registry = new Registry();
  readonly #limit = pLimit(64);
  readonly #state = new Gauge({
    name: "athena_calculation_state",
    help: "state",
    labelNames: ["calculation_execution_id", "session_id", "state"] as const,
    registers: [this.registry],
  });
  readonly #dpu = new Gauge({
    name: "athena_calculation_dpu_execution_seconds",
    help: "dpu",
    labelNames: ["calculation_execution_id", "session_id"] as const,
    registers: [this.registry],
  });
  readonly #duration = new Gauge({
    name: "athena_calculation_duration_seconds",
    help: "duration",
    labelNames: ["calculation_execution_id", "session_id"] as const,
    registers: [this.registry],
  });
  readonly #info = new Gauge({
    name: "athena_calculation_info",
    help: "info",
    labelNames: ["calculation_execution_id", "session_id", "description", "working_directory"] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly client: AthenaClient,
    private readonly ids: readonly string[],
  ) {}

  async scrape(): Promise<string> {
    const answers = await Promise.all(
      this.ids.map((id) =>
        this.#limit(async () => {
          try {
            return await this.client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: id }));
          } catch {
            return undefined;
          }
        }),
      ),
    );
    for (const g of [this.#state, this.#dpu, this.#duration, this.#info]) g.reset();
    const states = ["CREATING", "CREATED", "QUEUED", "RUNNING", "CANCELING", "CANCELED", "COMPLETED", "FAILED"];
    answers.forEach((a, i) => {
      if (a === undefined) return;
      const id = this.ids[i] ?? "";
      const session = a.SessionId ?? "";
      for (const s of states)
        this.#state.set({ calculation_execution_id: id, session_id: session, state: s }, a.Status?.State === s ? 1 : 0);
      this.#dpu.set({ calculation_execution_id: id, session_id: session }, (a.Statistics?.DpuExecutionInMillis ?? 0) / 1000);
      const start = a.Status?.SubmissionDateTime?.getTime() ?? 0;
      const end = a.Status?.CompletionDateTime?.getTime() ?? Date.now();
      this.#duration.set({ calculation_execution_id: id, session_id: session }, (end - start) / 1000);
      this.#info.set(
        {
          calculation_execution_id: id,
          session_id: session,
          description: a.Description ?? "",
          working_directory: a.WorkingDirectory ?? "",
        },
        1,
      );
    });
    return this.registry.metrics();
  }
}
