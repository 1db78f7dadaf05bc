/**
 * ID labels added once per resource, as kube-state-metrics'
 * `wrapConfigMapFunc` (internal/store/configmap.go) prefixes every family
 * of a resource with the labels that identify it: each family is declared
 * as `defineFamily` declares one, with its own label names and a function
 * from what is known of the resource to its own label values; the
 * resource's wrapper puts the ID labels in front of both.
 */
import { defineFamily, type FamilyDefinition, type FamilyGenerator, type SampleOf } from "./family-generator.js";

/** A resource as its families see it: what is known of it and its ID label values; undefined when nothing is known yet. */
export type Identify<S, K, I extends readonly string[]> = (subject: S) => { readonly known: K; readonly ids: SampleOf<I>[0] } | undefined;

/**
 * The declaration of one family of a resource identified by `idLabels`:
 * what it returns declares families whose samples carry the ID labels
 * first, then their own; a subject `identify` knows nothing of has no
 * samples in them.
 */
export function withIdLabels<S, K, const I extends readonly string[]>(
  idLabels: I,
  identify: Identify<S, K, I>,
): <const E extends readonly string[]>(definition: FamilyDefinition<K, E>) => FamilyGenerator<S> {
  return <const E extends readonly string[]>(definition: FamilyDefinition<K, E>): FamilyGenerator<S> => {
    const { labelNames, generate, ...spec } = definition;
    return defineFamily<S, readonly [...I, ...E]>({
      ...spec,
      labelNames: [...idLabels, ...labelNames],
      generate: (subject) => {
        const found = identify(subject);
        if (found === undefined) return [];
        // The spread tuple's type is [...ID values, ...E's values], which TypeScript cannot match
        // to the mapped type of [...I, ...E]; the lengths agree by construction.
        return generate(found.known).map(([own, value]) => [[...found.ids, ...own], value] as unknown as SampleOf<readonly [...I, ...E]>);
      },
    });
  };
}
