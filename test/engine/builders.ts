// Configuration builders and CSV helpers for engine tests (no database here).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigSet, ManagementAgent, ManagementAgentSpec, RetentionPolicy, SyncRule, SyncRuleSpec } from "../../src/config/model.ts";

export const HR_COLUMNS = ["employeeId", "givenName", "sn", "department", "managerId", "status", "employeeType"];

export function writeCsv(path: string, columns: string[], rows: Array<Record<string, string>>): void {
  const cell = (v: string | undefined) => (v === undefined ? "" : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  writeFileSync(path, [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n");
}

/** A small RFC 4180 reader for assertions (the connector under test has its own). */
export function readCsv(path: string): Array<Record<string, string>> {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const records: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell), records.push(row), (row = []), (cell = "");
    else if (ch !== "\r") cell += ch;
  }
  if (cell !== "" || row.length > 0) row.push(cell), records.push(row);
  const [header, ...rest] = records;
  return rest.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

const src = (dir: string) => ({ file: join(dir, "config.yaml"), line: 1, document: 0 });

export function hrAgent(dir: string, extra: Partial<ManagementAgentSpec> = {}, name = "hr", file = "hr.csv"): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name },
    source: src(dir),
    spec: {
      connector: { type: "csv", csv: { path: file } },
      objectTypes: [
        {
          name: "person",
          anchor: ["employeeId"],
          attributes: [
            { name: "employeeId" },
            { name: "givenName" },
            { name: "sn" },
            { name: "department" },
            { name: "managerId", type: "reference", referenceTo: "person" },
            { name: "status" },
            { name: "employeeType" },
          ],
        },
      ],
      ...extra,
    },
  };
}

export function directoryAgent(dir: string, extra: Partial<ManagementAgentSpec> = {}): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "directory" },
    source: src(dir),
    spec: {
      connector: { type: "csv", csv: { path: "directory.csv" } },
      objectTypes: [
        {
          name: "account",
          anchor: ["employeeId"],
          attributes: [{ name: "employeeId" }, { name: "displayName" }, { name: "department" }, { name: "manager", type: "reference", referenceTo: "account" }],
        },
      ],
      ...extra,
    },
  };
}

export function rule(name: string, spec: SyncRuleSpec): SyncRule {
  return { apiVersion: "idsync.dev/v1alpha1", kind: "SyncRule", metadata: { name }, spec };
}

export function hrInbound(extra: Partial<SyncRuleSpec> = {}, ma = "hr"): SyncRule {
  return rule(`${ma}-inbound`, {
    direction: "inbound",
    managementAgent: ma,
    sourceObjectType: "person",
    metaverseObjectType: "person",
    precedence: 10,
    scope: 'source.status in ["active", "leave"]',
    join: [{ metaverse: "employeeId", expression: "source.employeeId" }],
    projection: true,
    attributeFlows: [
      { target: "employeeId", expression: "source.employeeId" },
      { target: "displayName", expression: 'source.givenName + " " + source.sn' },
      { target: "department", expression: "source.department" },
      { target: "manager", expression: "source.managerId" },
    ],
    ...extra,
  });
}

export function directoryOutbound(extra: Partial<SyncRuleSpec> = {}): SyncRule {
  return rule("directory-outbound", {
    direction: "outbound",
    managementAgent: "directory",
    metaverseObjectType: "person",
    targetObjectType: "account",
    precedence: 10,
    scope: "has(mv.employeeId)",
    provision: true,
    deprovision: "delete",
    attributeFlows: [
      { target: "employeeId", expression: "mv.employeeId" },
      { target: "displayName", expression: "mv.displayName" },
      { target: "department", expression: "mv.department" },
      { target: "manager", expression: "mv.manager" },
    ],
    ...extra,
  });
}

export function retention(disconnectedFrom: string[]): RetentionPolicy {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "RetentionPolicy",
    metadata: { name: "person" },
    spec: { metaverseObjectType: "person", deleteWhen: { disconnectedFrom } },
  };
}

export function standardConfig(dir: string, opts: { threshold?: ManagementAgentSpec["deletionThreshold"] } = {}): ConfigSet {
  return {
    managementAgents: [hrAgent(dir), directoryAgent(dir, opts.threshold ? { deletionThreshold: opts.threshold } : {})],
    syncRules: [hrInbound(), directoryOutbound()],
    retentionPolicies: [retention(["hr"])],
  };
}

export function person(n: number, extra: Record<string, string> = {}): Record<string, string> {
  const id = "E" + String(n).padStart(4, "0");
  return { employeeId: id, givenName: `Given${n}`, sn: `Family${n}`, department: n % 2 ? "Sales" : "Finance", managerId: n > 1 ? "E0001" : "", status: "active", employeeType: "employee", ...extra };
}
