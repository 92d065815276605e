// csv.roots: each root is a volume (a PersistentVolumeClaim, a ConfigMap, any volume source)
// mounted at its mountPath (default /var/lib/idsync/csv/<name>) and passed to the operator as
// --csv-root <name>=<mountPath>; the values schema refuses a root without a name or volume.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { CHART_DIR, defaultValues, find, mergeValues, renderChart } from "./render.ts";

const ROOTS = [
  { name: "hr", volume: { persistentVolumeClaim: { claimName: "hr-exports" } } },
  { name: "static", mountPath: "/srv/static-csv", readOnly: true, volume: { configMap: { name: "idsync-static-csv" } } },
];

describe("the chart's CSV roots", () => {
  it("has none by default: no CSV MA is valid until one is declared", () => {
    const pod = find(renderChart().documents, "Deployment")[0].spec.template.spec;
    assert.ok(!pod.containers[0].args.some((a: string) => a.startsWith("--csv-root")));
    assert.ok(!pod.volumes.some((v: { name: string }) => v.name.startsWith("csv-")));
  });

  it("mounts each root's volume and passes it to the operator", () => {
    const pod = find(renderChart({ values: { csv: { roots: ROOTS } } }).documents, "Deployment")[0].spec.template.spec;
    const [c] = pod.containers;
    assert.deepEqual(
      c.args.filter((a: string) => a.startsWith("--csv-root")),
      ["--csv-root=hr=/var/lib/idsync/csv/hr", "--csv-root=static=/srv/static-csv"],
    );
    assert.deepEqual(
      c.volumeMounts.filter((m: { name: string }) => m.name.startsWith("csv-")),
      [
        { name: "csv-hr", mountPath: "/var/lib/idsync/csv/hr" },
        { name: "csv-static", mountPath: "/srv/static-csv", readOnly: true },
      ],
    );
    assert.deepEqual(
      pod.volumes.filter((v: { name: string }) => v.name.startsWith("csv-")),
      [
        { name: "csv-hr", persistentVolumeClaim: { claimName: "hr-exports" } },
        { name: "csv-static", configMap: { name: "idsync-static-csv" } },
      ],
    );
  });

  it("is checked by values.schema.json", () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")));
    const check = (roots: unknown) => (validate(mergeValues(defaultValues(), { csv: { roots } })) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
    assert.deepEqual(check(ROOTS), []);
    assert.match(check([{ name: "HR data", volume: { emptyDir: {} } }]).join(), /\/csv\/roots\/0\/name must match pattern/);
    assert.match(check([{ name: "hr" }]).join(), /must have required property 'volume'/);
    assert.match(check([{ name: "hr", volume: {} }]).join(), /\/csv\/roots\/0\/volume must NOT have fewer than 1 properties/);
    assert.match(check([{ name: "hr", mountPath: "data", volume: { emptyDir: {} } }]).join(), /\/csv\/roots\/0\/mountPath must match pattern/);
    assert.match(check([{ name: "hr", path: "/x", volume: { emptyDir: {} } }]).join(), /must NOT have additional properties/);
  });
});
