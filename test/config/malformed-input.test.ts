// Whatever shape a document has, validation reports errors and never throws: a malformed resource
// is caught by the schema and kept away from the semantic checks that assume the schema's shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { loadConfigDirectory, validateResources, type AnyResource } from "../../src/config/index.ts";
import { VALID } from "./helpers.ts";

// As JSON text, so every use is a fresh value (validation writes defaults into objects it is given).
const junk = fc.oneof(fc.constant(null), fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([1, "a"])).map((v) => JSON.stringify(v));

/** Replaces the value at a random path (chosen by `pick`) with `value`, or deletes it. */
function mutate(root: unknown, pick: number[], value: string, remove: boolean): void {
  let node = root as Record<string, unknown>;
  for (let depth = 0; depth < pick.length; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const key = keys[pick[depth] % keys.length];
    const child = node[key];
    if (depth === pick.length - 1 || child === null || typeof child !== "object") {
      if (remove) delete node[key];
      else node[key] = JSON.parse(value);
      return;
    }
    node = child as Record<string, unknown>;
  }
}

test("validation reports, never throws, on arbitrarily damaged resources", async () => {
  const { resources } = await loadConfigDirectory(VALID);
  const pristine = JSON.stringify(resources.map(({ source: _s, ...r }) => r));
  fc.assert(
    fc.property(
      fc.array(fc.record({ which: fc.nat(), pick: fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), value: junk, remove: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      (mutations) => {
        const copy = JSON.parse(pristine) as AnyResource[];
        for (const m of mutations) mutate(copy[m.which % copy.length], m.pick, m.value, m.remove);
        const result = validateResources(copy);
        assert.ok(Array.isArray(result.errors));
        for (const e of result.errors) assert.equal(typeof e.message, "string");
        // With errors there is no config; without, there is.
        assert.equal(result.config === undefined, result.errors.length > 0);
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});
