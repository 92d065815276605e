// Shared by the config tests: a temporary copy of a fixture directory with files replaced or added,
// so each test shows the exact YAML (and so the exact lines) it is about.
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const VALID = join(FIXTURES, "valid");

/** A temp dir holding `base` (a fixture dir, or null for none) overlaid with `files`; removed after the test file. */
export function configDir(files: Record<string, string>, base: string | null = VALID): string {
  const dir = mkdtempSync(join(tmpdir(), "idsync-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  if (base) cpSync(base, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/**
 * rules/directory.yaml for the valid fixture: an outbound rule to the directory MA (`outboundLines`
 * after its precedence, then its attribute flows) and the inbound join rule beside it.
 */
export function directoryRules(outboundLines: string, flows: string, inboundFlows = "    - {target: mail, expression: source.mail}"): string {
  return `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: directory-outbound}
spec:
  direction: outbound
  managementAgent: directory
  metaverseObjectType: person
  targetObjectType: inetOrgPerson
  precedence: 10
${outboundLines}
  attributeFlows:
${flows}
---
apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: directory-inbound}
spec:
  direction: inbound
  managementAgent: directory
  sourceObjectType: inetOrgPerson
  metaverseObjectType: person
  precedence: 20
  join: [{metaverse: employeeId, expression: source.employeeNumber}]
  attributeFlows:
${inboundFlows}
`;
}
