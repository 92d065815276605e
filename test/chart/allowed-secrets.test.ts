// secrets.allowedNames: the Secrets the operator may use without the opt-in label, passed as one
// --allowed-secret argument each (none by default), checked by values.schema.json, and each one
// accepted by the operator's own parser (what the chart renders, the operator starts with).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { parseAllowedSecrets } from "../../src/operator/secrets.ts";
import { CHART_DIR, defaultValues, find, mergeValues, renderChart } from "./render.ts";

const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const valid = (allowedNames: unknown) => validate(mergeValues(defaultValues(), { secrets: { allowedNames } }));

describe("the chart's secrets.allowedNames", () => {
  it("is empty by default: only labelled Secrets are used", () => {
    assert.deepEqual(defaultValues().secrets, { allowedNames: [] });
    const [c] = find(renderChart().documents, "Deployment")[0].spec.template.spec.containers;
    assert.ok(!c.args.some((a: string) => a.startsWith("--allowed-secret")));
  });

  it("becomes one --allowed-secret argument per name, which the operator accepts", () => {
    const names = ["ldap-bind", "team-a/pg-connection"];
    const [c] = find(renderChart({ values: { secrets: { allowedNames: names } } }).documents, "Deployment")[0].spec.template.spec.containers;
    const args = c.args.filter((a: string) => a.startsWith("--allowed-secret="));
    assert.deepEqual(args, ["--allowed-secret=ldap-bind", "--allowed-secret=team-a/pg-connection"]);
    assert.deepEqual(parseAllowedSecrets(args.map((a: string) => a.slice("--allowed-secret=".length))), [{ name: "ldap-bind" }, { namespace: "team-a", name: "pg-connection" }]);
  });

  it("refuses what names no Secret, in the schema and in the operator alike", () => {
    assert.equal(valid(["ldap-bind", "team-a/ldap.bind"]), true);
    for (const bad of ["LDAP_bind", "a/b/c", "team.a/x", "", "-x"]) {
      assert.equal(valid([bad]), false, `schema accepts ${JSON.stringify(bad)}`);
      if (bad !== "") assert.throws(() => parseAllowedSecrets([bad]), /--allowed-secret: .* is not a Secret name or namespace\/name/);
    }
  });
});
