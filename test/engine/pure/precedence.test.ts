// Pure precedence resolution: ranked, null falls through, order of input irrelevant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolvePrecedence, type Contribution } from "../../../src/engine/precedence.ts";

const c = (rule: string, precedence: number, csId: number, values: Record<string, string | null>): Contribution => ({ csId, ma: rule.split("-")[0], rule, precedence, values });

test("lowest precedence with a value wins; null falls through; unsupplied attributes vanish", () => {
  const contributions = [
    c("badge-in", 20, 2, { displayName: "B", department: "Security", phone: null }),
    c("hr-in", 10, 1, { displayName: "H", department: null }),
  ];
  const r = resolvePrecedence(contributions);
  assert.deepEqual(r.attrs, { department: "Security", displayName: "H" });
  assert.deepEqual(r.lineage.displayName, { ma: "hr", rule: "hr-in", cs: 1 });
  assert.deepEqual(r.lineage.department, { ma: "badge", rule: "badge-in", cs: 2 });
  assert.deepEqual(resolvePrecedence([...contributions].reverse()), r);
});

test("no contributions recall everything", () => {
  assert.deepEqual(resolvePrecedence([]).attrs, {});
});
