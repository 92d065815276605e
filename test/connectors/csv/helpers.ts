// Shared fixtures for the CSV connector tests: a temp directory per test file, an MA, and readers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { AttributeSpec, CsvConnectorSettings, ManagementAgent, ObjectTypeSpec } from "../../../src/config/model.ts";
import { createCsvConnector } from "../../../src/connectors/csv/index.ts";
import type { Connector, ImportedObject, ImportProblem } from "../../../src/connectors/types.ts";

/** A fresh directory under os.tmpdir(), removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "idsync-csv-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const person: ObjectTypeSpec = {
  name: "person",
  anchor: ["employeeId"],
  attributes: [
    { name: "employeeId" },
    { name: "givenName" },
    { name: "sn" },
    { name: "mail" },
    { name: "age", type: "integer" },
    { name: "active", type: "boolean" },
    { name: "groups", multiValued: true },
    { name: "managerId", type: "reference", referenceTo: "person" },
  ],
};

export function managementAgent(csv: Partial<CsvConnectorSettings> = {}, objectTypes: ObjectTypeSpec[] = [person]): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "hr" },
    spec: { connector: { type: "csv", csv: { path: "hr.csv", ...csv } }, objectTypes },
  };
}

export function connector(dir: string, csv: Partial<CsvConnectorSettings> = {}, objectTypes?: ObjectTypeSpec[]): Connector {
  return createCsvConnector(managementAgent(csv, objectTypes), { baseDir: dir, secret: async () => "" });
}

export async function importAll(c: Connector): Promise<{ objects: ImportedObject[]; problems: ImportProblem[]; batches: number }> {
  const objects: ImportedObject[] = [];
  const problems: ImportProblem[] = [];
  let batches = 0;
  for await (const b of c.fullImport()) {
    batches++;
    objects.push(...b.items);
    problems.push(...(b.problems ?? []));
  }
  return { objects, problems, batches };
}

export function byAnchor(objects: ImportedObject[]): Map<string, ImportedObject> {
  return new Map(objects.map((o) => [o.anchor, o]));
}

export type { AttributeSpec };
