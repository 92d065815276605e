// The configuration diff: CRs added / changed / removed with their changed fields; keyed lists are
// matched by key (an inserted flow is one addition), plain lists change as a whole, a pure reorder is
// one "reordered", and the loader's bookkeeping (source) or server metadata never count.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AnyResource } from "../../src/config/model.ts";
import { comparable, diffResources } from "../../src/gitops/index.ts";
import { directoryOutbound, hrAgent, hrInbound, retention } from "../engine/builders.ts";

const body = (r: AnyResource) => comparable(r);

test("resources added, changed and removed, with field paths", () => {
  const before = [hrAgent("/a"), hrInbound(), directoryOutbound()];
  const inbound = hrInbound();
  inbound.spec.attributeFlows = [{ target: "title", expression: "source.title" }, ...inbound.spec.attributeFlows!];
  inbound.spec.attributeFlows.find((f) => f.target === "displayName")!.expression = "source.sn";
  inbound.spec.precedence = 20;
  const after = [hrAgent("/b"), inbound, retention(["hr"])];
  const d = diffResources(before.map(body), after.map(body));
  assert.deepEqual(
    d.resources.map((r) => `${r.change} ${r.kind}/${r.name}`),
    ["removed SyncRule/directory-outbound", "changed SyncRule/hr-inbound", "added RetentionPolicy/person"],
  );
  assert.equal(d.unchanged, 1, "hrAgent differs only in its source file, which is not compared");
  assert.deepEqual(
    d.resources.find((r) => r.name === "hr-inbound")!.fields,
    [
      { path: "spec.precedence", change: "changed", before: 10, after: 20 },
      { path: "spec.attributeFlows[target=displayName].expression", change: "changed", before: 'source.givenName + " " + source.sn', after: "source.sn" },
      { path: "spec.attributeFlows[target=title]", change: "added", after: { target: "title", expression: "source.title" } },
    ],
  );
});

test("plain lists change as a whole; reordering keyed items is one change", () => {
  const a = retention(["hr"]);
  const b = retention(["hr", "directory"]);
  assert.deepEqual(diffResources([body(a)], [body(b)]).resources[0].fields, [
    { path: "spec.deleteWhen.disconnectedFrom", change: "changed", before: ["hr"], after: ["hr", "directory"] },
  ]);
  const x = directoryOutbound();
  const y = directoryOutbound();
  y.spec.attributeFlows = [...y.spec.attributeFlows!].reverse();
  const fields = diffResources([body(x)], [body(y)]).resources[0].fields;
  assert.equal(fields.length, 1);
  assert.equal(fields[0].change, "reordered");
  assert.equal(fields[0].path, "spec.attributeFlows");
  assert.deepEqual(fields[0].after, ["manager", "department", "displayName", "employeeId"]);
});

test("with metadata: labels and user annotations count, tool annotations do not", () => {
  const a = hrAgent("/a");
  const b = hrAgent("/a");
  a.metadata.annotations = { "kubectl.kubernetes.io/last-applied-configuration": "{...}" };
  b.metadata.labels = { team: "iam" };
  b.metadata.uid = "1234";
  b.metadata.resourceVersion = "99";
  const d = diffResources([comparable(a, { metadata: true })], [comparable(b, { metadata: true })]);
  assert.deepEqual(d.resources[0].fields, [{ path: "labels", change: "added", after: { team: "iam" } }]);
  // Without metadata (engine comparison) the same two are equal.
  assert.equal(diffResources([comparable(a)], [comparable(b)]).unchanged, 1);
});
