import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

/**
 * The layers of src/, bottom to top (README, "Development"). A module may
 * import from its own place (its folder; at the root, its layer) and from
 * any layer below; never from a layer above, and never from a sibling
 * folder of its own layer: calculations/, sessions/, executors/ and self/ know nothing
 * of each other.
 */
const LAYERS: readonly { readonly name: string; readonly places: readonly string[] }[] = [
  {
    name: "generic utilities",
    places: ["result.ts", "clock.ts", "either-signal.ts", "version.ts", "shard.ts", "refresh-all.ts"],
  },
  { name: "text format, family generators, compression (no domain)", places: ["exposition/"] },
  { name: "the Athena API and the types it parses into", places: ["athena/"] },
  { name: "config files (handed the family names, loads no family)", places: ["config/"] },
  { name: "the refreshing cache every resource fetches through", places: ["refreshing-cache.ts"] },
  { name: "resources and the exporter's own health", places: ["calculations/", "sessions/", "executors/", "self/"] },
  { name: "discovery", places: ["discovery/"] },
  { name: "the catalog of every family", places: ["catalog/"] },
  {
    name: "targets",
    places: ["watch-since.ts", "tracking.ts", "workgroup-directory.ts", "target.ts", "targets.ts"],
  },
  { name: "HTTP", places: ["http/"] },
  { name: "command line", places: ["cli/"] },
  { name: "entry point", places: ["main.ts"] },
];

interface Place {
  readonly layer: number;
  /** The folder (`athena/`), or for a root file its layer's name: what imports inside it freely. */
  readonly place: string;
}

/** Where a file of src/ (as `athena/client.ts`) sits; undefined when no layer places it. */
function placeOf(file: string): Place | undefined {
  const folder = file.includes("/") ? `${file.slice(0, file.indexOf("/"))}/` : undefined;
  const layer = LAYERS.findIndex((l) => l.places.includes(folder ?? file));
  if (layer < 0) return undefined;
  return { layer, place: folder ?? `the root's ${LAYERS[layer]?.name ?? ""}` };
}

/** What is wrong with `from` importing `to` (both relative to src/); undefined when the import runs down or stays in place. */
function problem(from: string, to: string): string | undefined {
  const source = placeOf(from);
  const target = placeOf(to);
  if (source === undefined || target === undefined) return undefined; // reported by the placement test
  if (source.place === target.place || target.layer < source.layer) return undefined;
  const names = (p: Place): string => `${p.place} (layer ${p.layer}: ${LAYERS[p.layer]?.name ?? ""})`;
  return target.layer > source.layer
    ? `src/${from} imports src/${to}: upward, from ${names(source)} to ${names(target)}`
    : `src/${from} imports src/${to}: sideways, between ${source.place} and ${target.place} of one layer`;
}

async function sourceFiles(dir = "src"): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative("src", join(e.parentPath, e.name)))
    .sort();
}

/** Every relative import of a file (static, type-only, re-export or dynamic), as a path relative to src/. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(join("src", file), "utf8");
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((i) => i.fileName);
  return [...new Set(specifiers.filter((spec) => spec.startsWith(".")))].map((spec) =>
    normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts"),
  );
}

describe("src/ layers", () => {
  it("places every file of src/ in a layer", async () => {
    assert.deepEqual(
      (await sourceFiles()).filter((file) => placeOf(file) === undefined),
      [],
      "files in no layer: add their folder or root file to LAYERS",
    );
  });

  it("has no import from a lower layer to a higher one, nor between sibling folders", async () => {
    const problems: string[] = [];
    for (const file of await sourceFiles()) {
      for (const imported of await importsOf(file)) {
        const found = problem(file, imported);
        if (found !== undefined) problems.push(found);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("names the file and the import when one runs upward or sideways", () => {
    assert.equal(
      problem("athena/client.ts", "catalog/families.ts"),
      "src/athena/client.ts imports src/catalog/families.ts: upward, from athena/ (layer 2: the Athena API and the types it parses into) to catalog/ (layer 7: the catalog of every family)",
    );
    assert.equal(
      problem("sessions/metrics.ts", "calculations/metrics.ts"),
      "src/sessions/metrics.ts imports src/calculations/metrics.ts: sideways, between sessions/ and calculations/ of one layer",
    );
    assert.equal(problem("target.ts", "tracking.ts"), undefined);
    assert.equal(problem("catalog/families.ts", "calculations/metrics.ts"), undefined);
  });

  it("validates a config without loading a family: nothing config/ imports, however indirectly, declares one", async () => {
    const seen = new Set<string>();
    const queue = (await sourceFiles()).filter((file) => file.startsWith("config/"));
    while (queue.length > 0) {
      const file = queue.pop() ?? "";
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(...(await importsOf(file)));
    }
    const declaring: string[] = [];
    for (const file of seen) {
      if (/\b(defineFamily|selfFamily)\(/.test(await readFile(join("src", file), "utf8"))) declaring.push(file);
    }
    assert.ok(seen.size > 3, `config/ and what it imports: ${[...seen].join(", ")}`);
    assert.deepEqual(declaring, [], "modules declaring families, loaded by config/");
  });
});
