export { openDatabase, redactUrl, schemaForNamespace, type Database, type Queryable, type QueryResult, type OpenDatabaseOptions } from "./db.ts";
export { migrate, listMigrations } from "./migrate.ts";
export * from "./queries.ts";
export { ensureUniqueIndexes, uniqueValueHolders, type ValueHolder } from "./unique.ts";
export {
  DatabaseUnavailableError,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  describePostgresError,
  findDatabaseUnavailable,
  formatDuration,
  postgresConnectionConfig,
  queryTimeoutMs,
  resolveTimeouts,
  type DatabaseProblem,
  type PostgresConnectionOptions,
  type PostgresTimeouts,
} from "./pgconfig.ts";
