export { openDatabase, redactUrl, type Database, type Queryable, type QueryResult, type OpenDatabaseOptions } from "./db.ts";
export { migrate, listMigrations } from "./migrate.ts";
export * from "./queries.ts";
