// The LDAP connector (OpenLDAP first, any LDAPv3 server through ldapts).
//
//   spec.connector.ldap: url (ldap:// or ldaps://), startTLS, bindDN, passwordSecretRef {name, key},
//   allowInsecureBind (default false: a password bind over plain ldap:// is refused before connecting),
//   baseDN, tls {caFile, insecureSkipVerify}, pageSize (500), timeoutSeconds (120),
//   accesslogBase (OpenLDAP accesslog suffix, for deletions in delta imports),
//   readAnchorAfterAdd (default true: an add returns the entryUUID, via the Post-Read control)
//   objectTypes[]: objectClasses (search and add), searchFilter (ANDed), anchor (default entryUUID),
//   attributes (type reference = a DN; binary = base64)
//
// References are written and read as DNs (referenceBy "dn"); DNs read back are normalized with
// normalizeDN, which is also how the engine should compare them.
// See import.ts for what a delta import sees (and does not see), export.ts for export semantics.
import type { ManagementAgent } from "../../config/model.ts";
import type { Connector, ConnectorContext, DeltaImport, ExportOperation, ExportResult, ImportBatch, ImportedObject } from "../types.ts";
import { LdapConnection } from "./connection.ts";
import { exportOperations } from "./export.ts";
import { deltaImport, fullImport } from "./import.ts";
import { resolveSettings } from "./settings.ts";

export { ConnectorUnavailableError } from "../errors.ts";
export { normalizeDN, parseDN, dnEquals, parentDN, isWithin, DNSyntaxError } from "./dn.ts";
export type { LdapConnectorSettingsExtra } from "./settings.ts";

export function createLdapConnector(ma: ManagementAgent, ctx: ConnectorContext): Connector {
  const { settings, types } = resolveSettings(ma);
  const conn = new LdapConnection(settings, ctx);
  const c = { conn, settings, types };
  return {
    referenceBy: "dn",
    fullImport(): AsyncIterable<ImportBatch<ImportedObject>> {
      return fullImport(c);
    },
    deltaImport(watermark: string | undefined): Promise<DeltaImport> {
      return deltaImport(c, watermark);
    },
    export(operations: ExportOperation[]): Promise<ExportResult[]> {
      return exportOperations(c, operations);
    },
    close(): Promise<void> {
      return conn.close();
    },
  };
}
