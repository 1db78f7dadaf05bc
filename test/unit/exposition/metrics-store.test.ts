import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bodyBytes } from "../../body-text.js";
import { defineFamily } from "../../../src/exposition/family-generator.js";
import { MetricsStore } from "../../../src/exposition/metrics-store.js";

interface Job {
  readonly id: string;
  readonly startedAt: number;
  readonly nowSeconds: number;
}

const FAMILIES = [
  defineFamily({
    name: "job_started",
    type: "gauge",
    help: "h",
    doc: "d",
    labelNames: ["id"],
    generate: (job: Job) => [[[job.id], job.startedAt]],
  }),
  defineFamily({
    name: "job_age_seconds",
    type: "gauge",
    help: "h",
    doc: "d",
    labelNames: ["id"],
    generate: (job: Job) => [[[job.id], job.nowSeconds - job.startedAt]],
  }),
];

const textOf = (store: MetricsStore<Job>, family: number, now: number): string => {
  const part = store.text(family, now);
  return part === undefined ? "" : bodyBytes([part]).toString("utf8");
};

describe("the metrics store", () => {
  const store = (): MetricsStore<Job> => new MetricsStore(FAMILIES, { family: 1, at: (job, nowSeconds) => ({ ...job, nowSeconds }) });

  it("keeps each item's lines until it is set again or deleted", () => {
    const jobs = store();
    jobs.set("a", { id: "a", startedAt: 100, nowSeconds: 0 });
    jobs.set("b", { id: "b", startedAt: 200, nowSeconds: 0 });
    assert.equal(textOf(jobs, 0, 0), 'job_started{id="a"} 100\njob_started{id="b"} 200\n');
    jobs.set("a", { id: "a", startedAt: 150, nowSeconds: 0 });
    jobs.delete("b");
    assert.equal(textOf(jobs, 0, 0), 'job_started{id="a"} 150\n');
    jobs.delete("a");
    assert.equal(jobs.text(0, 0), undefined);
  });

  it("hands the same kept text to every scrape until an item changes", () => {
    const jobs = store();
    jobs.set("a", { id: "a", startedAt: 100, nowSeconds: 0 });
    const first = jobs.text(0, 0);
    assert.equal(jobs.text(0, 5), first);
    jobs.set("b", { id: "b", startedAt: 200, nowSeconds: 0 });
    assert.notEqual(jobs.text(0, 5), first);
  });

  it("renders the live family as of each scrape's clock", () => {
    const jobs = store();
    jobs.set("a", { id: "a", startedAt: 100, nowSeconds: 0 });
    assert.equal(textOf(jobs, 1, 130), 'job_age_seconds{id="a"} 30\n');
    assert.equal(textOf(jobs, 1, 160), 'job_age_seconds{id="a"} 60\n');
  });
});
