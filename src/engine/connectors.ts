// Connector construction by type. Loaded lazily so that, say, the CSV quick start never loads ldapts.
import type { Connector, ConnectorContext } from "../connectors/types.ts";
import type { PathPolicy } from "../config/paths.ts";
import type { CompiledMA } from "./rules.ts";

export type SecretResolver = (name: string, key: string) => Promise<string>;

/** `paths`: where the connector's files may lie (config/paths.ts); absent: anywhere. */
export async function createConnector(ma: CompiledMA, secrets: SecretResolver, paths?: PathPolicy, initialPassword?: () => string): Promise<Connector> {
  const ctx: ConnectorContext = { baseDir: ma.baseDir, secret: secrets, paths, initialPassword };
  switch (ma.resource.spec.connector.type) {
    case "csv": {
      const { createCsvConnector } = await import("../connectors/csv/index.ts");
      return createCsvConnector(ma.resource, ctx);
    }
    case "ldap": {
      const { createLdapConnector } = await import("../connectors/ldap/index.ts");
      return createLdapConnector(ma.resource, ctx);
    }
    case "activeDirectory": {
      const { createActiveDirectoryConnector } = await import("../connectors/ad/index.ts");
      return createActiveDirectoryConnector(ma.resource, ctx);
    }
    default:
      throw new Error(`ManagementAgent ${ma.name}: connector type '${ma.resource.spec.connector.type}' is not supported yet`);
  }
}
