import { test } from "node:test";
import assert from "node:assert/strict";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("a management agent with a schema error does not cascade into errors on the rules that name it", async () => {
  const dir = configDir({
    "agents.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: cvs, csv: {path: data/hr.csv}}
  objectTypes:
    - name: person
      anchor: [employeeId]
      attributes: [{name: employeeId}, {name: givenName}, {name: sn}, {name: status}, {name: managerId, type: reference, referenceTo: person}]
---
apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: directory}
spec:
  connector:
    type: ldap
    ldap: {url: "ldap://openldap:389", baseDN: "ou=people,dc=example,dc=org"}
  objectTypes:
    - name: inetOrgPerson
      anchor: [entryUUID]
      attributes:
        - {name: entryUUID}
        - {name: uid}
        - {name: cn}
        - {name: sn}
        - {name: givenName}
        - {name: mail}
        - {name: employeeNumber}
        - {name: manager, type: reference, referenceTo: inetOrgPerson}
`,
  });
  const result = await loadConfigDirectory(dir);
  // The rules reading hr (hr-inbound) and the metaverse attributes it supplies (directory-outbound's
  // mv.accountName, mv.manager) are not reported: only the one real mistake is.
  assert.deepEqual(
    result.errors.map((e) => [e.name, e.path, e.line, e.message]),
    [["hr", "spec.connector.type", 5, "'cvs' is not one of: csv, ldap, activeDirectory, postgres"]],
    result.errors.map(formatConfigError).join("\n"),
  );
});
