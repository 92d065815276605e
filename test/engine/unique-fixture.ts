// Shared by the unique-value tests: HR people with given name and surname, and a CSV target whose
// accounts carry an account name declared unique (sAMAccountName-like).
import { join } from "node:path";
import type { ConfigSet, SyncRuleSpec } from "../../src/config/model.ts";
import { hrAgent, hrInbound, readCsv, retention, writeCsv, type TestEngine } from "./fixture.ts";
import { directoryOutbound } from "./builders.ts";

/** First letter of the given name + surname, then 2, 3, ...: jsmith, jsmith2, jsmith3. */
export const ACCOUNT_NAME = 'mv.givenName.substring(0, 1).lowerAscii() + mv.sn.lowerAscii() + (iteration > 1 ? string(iteration) : "")';

export const ACCOUNT_COLUMNS = ["employeeId", "accountName"];

export function uniqueConfig(dir: string, flow: Partial<{ expression: string; initialOnly: boolean }> = {}, extra: Partial<SyncRuleSpec> = {}): ConfigSet {
  return {
    managementAgents: [
      hrAgent(dir),
      {
        apiVersion: "idsync.dev/v1alpha1",
        kind: "ManagementAgent",
        metadata: { name: "directory" },
        source: { file: join(dir, "config.yaml"), line: 1, document: 0 },
        spec: {
          connector: { type: "csv", csv: { path: "directory.csv" } },
          objectTypes: [{ name: "account", anchor: ["employeeId"], attributes: [{ name: "employeeId" }, { name: "accountName" }] }],
        },
      },
    ],
    syncRules: [
      hrInbound({
        attributeFlows: [
          { target: "employeeId", expression: "source.employeeId" },
          { target: "givenName", expression: "source.givenName" },
          { target: "sn", expression: "source.sn" },
        ],
      }),
      directoryOutbound({
        attributeFlows: [
          { target: "employeeId", expression: "mv.employeeId" },
          { target: "accountName", expression: ACCOUNT_NAME, unique: true, ...flow },
        ],
        ...extra,
      }),
    ],
    retentionPolicies: [retention(["hr"])],
  };
}

export function hrPerson(id: string, givenName: string, sn: string, status = "active"): Record<string, string> {
  return { employeeId: id, givenName, sn, department: "Sales", managerId: "", status, employeeType: "employee" };
}

/** The target's accounts: employeeId → accountName. */
export function accounts(t: TestEngine): Record<string, string> {
  return Object.fromEntries(readCsv(join(t.dir, "directory.csv")).map((r) => [r.employeeId, r.accountName]));
}

/** Accounts that exist in the target before idsync runs (disconnectors: nothing joins them). */
export function seedAccounts(t: TestEngine, rows: Array<[string, string]>): void {
  writeCsv(join(t.dir, "directory.csv"), ACCOUNT_COLUMNS, rows.map(([employeeId, accountName]) => ({ employeeId, accountName })));
}
