// The Active Directory connector: AD over LDAP (ldapts), sharing the LDAP connector's connection,
// values and export machinery; what is AD's own lives here.
//
//   spec.connector.activeDirectory: url (ldaps://, or ldap:// with startTLS), bindDN (DN or UPN),
//   passwordSecretRef {name, key}, baseDN (the naming context), containers [DN…], caFile,
//   insecureSkipVerify, pageSize (1000), timeoutSeconds, deltaMode (auto | dirsync | usn),
//   mustChangePassword (default true), readAnchorAfterAdd (default true)
//   objectTypes: user, group, contact (objectClasses default per name), anchor objectGUID
//
// Anchors are objectGUIDs in AD's string form; references are DNs (referenceBy "dn"). See
// import.ts for full and delta import (DirSync, uSNChanged), export.ts for passwords and
// userAccountControl, errors.ts for AD's error texts.
import type { ManagementAgent } from "../../config/model.ts";
import type { Connector, ConnectorContext, DeltaImport, ExportOperation, ExportResult, ImportBatch, ImportedObject } from "../types.ts";
import { LdapConnection } from "../ldap/connection.ts";
import { exportOperations } from "../ldap/export.ts";
import { adDialect } from "./export.ts";
import { deltaImport, fullImport } from "./import.ts";
import { resolveAdSettings } from "./settings.ts";

export { guidToString, guidToBytes, sidToString, sidToBytes } from "./identifiers.ts";
export { randomInitialPassword } from "./password.ts";
export { samAccountNameProblem } from "./export.ts";

export function createActiveDirectoryConnector(ma: ManagementAgent, ctx: ConnectorContext): Connector {
  const { settings, types } = resolveAdSettings(ma);
  const conn = new LdapConnection(settings.ldap, ctx);
  const dialect = adDialect(settings, { initialPassword: ctx.initialPassword });
  return {
    referenceBy: "dn",
    fullImport(): AsyncIterable<ImportBatch<ImportedObject>> {
      return fullImport({ conn, settings, types });
    },
    deltaImport(watermark: string | undefined): Promise<DeltaImport> {
      return deltaImport({ conn, settings, types }, watermark);
    },
    export(operations: ExportOperation[]): Promise<ExportResult[]> {
      return exportOperations({ conn, settings: settings.ldap, types, dialect }, operations);
    },
    close(): Promise<void> {
      return conn.close();
    },
  };
}
