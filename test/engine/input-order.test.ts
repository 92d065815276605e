// The result does not depend on input order: the same people in any row order (and any batch
// boundaries) give the same metaverse and the same directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { openTestEngine, standardConfig } from "./fixture.ts";
import { normalizedState } from "./state.ts";

const personArb = (n: number) =>
  fc.record({
    sn: fc.constantFrom("Smith", "O'Brien, Jr.", "Ødegård", 'Quote "Q"', ""),
    department: fc.constantFrom("Sales", "Finance", ""),
    status: fc.constantFrom("active", "active", "active", "leave", "leaver"),
    manager: fc.nat({ max: n + 2 }),
  });

test("sync result is independent of input order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 3, max: 25 }).chain((n) => fc.tuple(fc.array(personArb(n), { minLength: n, maxLength: n }), fc.infiniteStream(fc.nat()))),
      async ([people, randoms]) => {
        const rows = people.map((p, i) => ({
          employeeId: `E${String(i + 1).padStart(4, "0")}`,
          givenName: `G${i}`,
          sn: p.sn,
          department: p.department,
          // may point at someone who does not exist, or at oneself: both must be order-independent
          managerId: `E${String(p.manager).padStart(4, "0")}`,
          status: p.status,
          employeeType: "employee",
        }));
        const shuffled = [...rows];
        const it = randoms[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const a = await openTestEngine({ batchSize: 4 });
        const b = await openTestEngine({ batchSize: 7 });
        try {
          a.writeHr(rows);
          b.writeHr(shuffled);
          for (const t of [a, b]) {
            await t.engine.apply(standardConfig(t.dir));
            await t.engine.cycle();
          }
          assert.deepEqual(await normalizedState(b.db), await normalizedState(a.db));
          assert.deepEqual(b.readDirectory(), a.readDirectory());
        } finally {
          await a.close();
          await b.close();
        }
      },
    ),
    { numRuns: 8 },
  );
});
