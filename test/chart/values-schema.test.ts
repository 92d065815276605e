// values.yaml satisfies values.schema.json (what `helm install/lint` enforces), and the schema
// refuses the mistakes it is there to catch.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { CHART_DIR, defaultValues, mergeValues } from "./render.ts";

const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const check = (overrides: Record<string, unknown>) => {
  const ok = validate(mergeValues(defaultValues(), overrides));
  return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};

describe("values.schema.json", () => {
  it("accepts the default values and documented overrides", () => {
    assert.deepEqual(check({}), []);
    assert.deepEqual(check({ watchNamespace: "team-a", replicaCount: 3, metrics: { serviceMonitor: { enabled: true, labels: { release: "prom" } } } }), []);
    assert.deepEqual(check({ extraVolumes: [{ name: "csv", persistentVolumeClaim: { claimName: "csv" } }], extraVolumeMounts: [{ name: "csv", mountPath: "/data" }] }), []);
  });

  it("refuses mistakes", () => {
    assert.match(check({ replicaCount: "two" }).join(), /\/replicaCount must be integer/);
    assert.match(check({ replicas: 2 }).join(), /must NOT have additional properties/);
    assert.match(check({ database: { existingSecret: "db", key: "" } }).join(), /\/database\/key/);
    assert.match(check({ watchNamespace: "Team_A" }).join(), /\/watchNamespace/);
    assert.match(check({ podSecurityContext: { runAsNonRoot: false } }).join(), /runAsNonRoot must be equal to constant/);
    assert.match(check({ securityContext: { allowPrivilegeEscalation: true } }).join(), /allowPrivilegeEscalation/);
    assert.match(check({ image: { pullPolicy: "Sometimes" } }).join(), /pullPolicy must be equal to one of the allowed values/);
  });
});
