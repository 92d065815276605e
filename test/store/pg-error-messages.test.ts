// What a PostgreSQL failure means to a user: each driver error that makes the database unusable
// becomes one line naming the database (never its password) and the reason; everything else (a
// constraint violation, a bad password) is left to its own message. Also the connection settings
// every idsync connection gets.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DatabaseUnavailableError,
  describePostgresError,
  findDatabaseUnavailable,
  formatDuration,
  postgresConnectionConfig,
  redactUrl,
} from "../../src/store/index.ts";

const URL_WITH_PASSWORD = "postgres://idsync:hunter2@db.example.org:5432/idsync";
const DB = redactUrl(URL_WITH_PASSWORD);
const AT = "the database at postgres://idsync:****@db.example.org:5432/idsync";
const TIMEOUTS = { connectTimeoutMs: 10_000, statementTimeoutMs: 300_000 };

/** An error shaped like the ones node and pg produce. */
function err(message: string, props: Record<string, unknown> = {}, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), props);
}

describe("describePostgresError", () => {
  const cases: Array<[string, Error, string, DatabaseUnavailableError["problem"]]> = [
    ["connection refused", err("connect ECONNREFUSED 10.0.0.5:5432", { code: "ECONNREFUSED", errno: -111, syscall: "connect" }), `${AT} is unreachable (connection refused)`, "unreachable"],
    ["host not found", err("getaddrinfo ENOTFOUND db.example.org", { code: "ENOTFOUND" }), `${AT} is unreachable (host not found)`, "unreachable"],
    ["connection reset", err("read ECONNRESET", { code: "ECONNRESET" }), `${AT} closed the connection (connection reset)`, "connection-lost"],
    ["terminated unexpectedly", err("Connection terminated unexpectedly"), `${AT} closed the connection (connection terminated unexpectedly)`, "connection-lost"],
    ["not queryable any more", err("Client has encountered a connection error and is not queryable"), `${AT} closed the connection (client has encountered a connection error and is not queryable)`, "connection-lost"],
    ["57P01 admin shutdown", err("terminating connection due to administrator command", { code: "57P01", severity: "FATAL" }), `${AT} closed the connection (terminating connection due to administrator command)`, "connection-lost"],
    ["57P01 immediate shutdown", err("terminating connection due to immediate shutdown command", { code: "57P01" }), `${AT} closed the connection (terminating connection due to immediate shutdown command)`, "connection-lost"],
    ["57P02 crash", err("terminating connection because of crash of another server process", { code: "57P02" }), `${AT} closed the connection (terminating connection because of crash of another server process)`, "connection-lost"],
    ["57P03 starting up", err("the database system is starting up", { code: "57P03" }), `${AT} is not accepting connections (the database system is starting up)`, "not-accepting"],
    ["53300 too many clients", err("sorry, too many clients already", { code: "53300" }), `${AT} is not accepting connections (sorry, too many clients already)`, "not-accepting"],
    ["25P03 idle in transaction", err("terminating connection due to idle-in-transaction timeout", { code: "25P03" }), `${AT} closed the connection (terminating connection due to idle-in-transaction timeout)`, "connection-lost"],
    ["client connect timeout", err("timeout expired"), `${AT} did not answer within 10s (connect timeout)`, "connect-timeout"],
    ["pool connect timeout", err("Connection terminated due to connection timeout", {}, err("Connection terminated unexpectedly")), `${AT} did not answer within 10s (connect timeout)`, "connect-timeout"],
    ["pool checkout timeout", err("timeout exceeded when trying to connect"), `${AT} did not answer within 10s (connect timeout)`, "connect-timeout"],
    ["statement timeout", err("canceling statement due to statement timeout", { code: "57014" }), `${AT} did not finish a statement within 5m (statement timeout)`, "statement-timeout"],
    ["query timeout", err("Query read timeout"), `${AT} did not answer within 5m5s (query timeout: the server or the network is stalled)`, "query-timeout"],
    ["cancelled by an administrator", err("canceling statement due to user request", { code: "57014" }), `${AT} cancelled a statement (canceling statement due to user request)`, "cancelled"],
    ["class 08", err("connection failure during authentication", { code: "08006" }), `${AT} broke the connection (connection failure during authentication)`, "connection-lost"],
  ];
  for (const [name, error, message, problem] of cases) {
    it(name, () => {
      const d = describePostgresError(error, DB, TIMEOUTS);
      assert.ok(d instanceof DatabaseUnavailableError, `${name} is explained`);
      assert.equal(d.message, message);
      assert.equal(d.problem, problem);
      assert.equal(d.cause, error, "the driver's error is kept as the cause");
      assert.ok(!d.message.includes("hunter2") && !d.message.includes("\n"));
    });
  }

  it("leaves errors that say what they mean alone", () => {
    for (const e of [
      err('duplicate key value violates unique constraint "cs_object_pkey"', { code: "23505" }),
      err('password authentication failed for user "idsync"', { code: "28P01" }),
      err('database "idsync" does not exist', { code: "3D000" }),
      err('syntax error at or near "selec"', { code: "42601" }),
      new Error("secret hr/password not found"),
    ]) {
      assert.equal(describePostgresError(e, DB, TIMEOUTS), undefined, e.message);
    }
    assert.equal(describePostgresError("not an error", DB), undefined);
  });

  it("tells the user what to do; the statement timeout suggests more time", () => {
    const down = describePostgresError(err("connect ECONNREFUSED", { code: "ECONNREFUSED" }), DB)!;
    assert.equal(down.hint, "nothing was lost — run the command again when it is back");
    assert.equal(down.code, "ECONNREFUSED");
    assert.ok(down.connectionBroken);
    const slow = describePostgresError(err("canceling statement due to statement timeout", { code: "57014" }), DB, { statementTimeoutMs: 2000 })!;
    assert.equal(slow.message, `${AT} did not finish a statement within 2s (statement timeout)`);
    assert.match(slow.hint, /--statement-timeout/);
    assert.ok(!slow.connectionBroken, "the connection itself is fine after a statement timeout");
  });

  it("is idempotent, and found again behind a wrapping error", () => {
    const d = describePostgresError(err("Query read timeout"), DB, { statementTimeoutMs: 2000 })!;
    assert.equal(d.message, `${AT} did not answer within 7s (query timeout: the server or the network is stalled)`);
    assert.equal(describePostgresError(d, DB), d);
    const wrapped = new Error("full-import of hr failed", { cause: d });
    assert.equal(findDatabaseUnavailable(wrapped), d);
    assert.equal(findDatabaseUnavailable(new Error("plain")), undefined);
  });
});

describe("postgresConnectionConfig", () => {
  it("sets every timeout, keepalive and an application_name with the pid", () => {
    const c = postgresConnectionConfig(URL_WITH_PASSWORD);
    assert.equal(c.connectionString, URL_WITH_PASSWORD);
    assert.equal(c.connectionTimeoutMillis, 10_000);
    assert.equal(c.statement_timeout, 300_000);
    assert.equal(c.query_timeout, 305_000, "the client waits a little longer than the server");
    assert.equal(c.idle_in_transaction_session_timeout, 300_000);
    assert.equal(c.keepAlive, true);
    assert.equal(c.application_name, `idsync/${process.pid}`);
  });

  it("takes other timeouts; 0 means none; short statement timeouts keep a minute for idle transactions", () => {
    const c = postgresConnectionConfig(URL_WITH_PASSWORD, { connectTimeoutMs: 3000, statementTimeoutMs: 2000, applicationName: "idsync-lock" });
    assert.equal(c.connectionTimeoutMillis, 3000);
    assert.equal(c.statement_timeout, 2000);
    assert.equal(c.query_timeout, 7000);
    assert.equal(c.idle_in_transaction_session_timeout, 60_000);
    assert.equal(c.application_name, "idsync-lock");
    const none = postgresConnectionConfig(URL_WITH_PASSWORD, { connectTimeoutMs: 0, statementTimeoutMs: 0 });
    assert.equal(none.connectionTimeoutMillis, undefined);
    assert.equal(none.statement_timeout, undefined);
    assert.equal(none.query_timeout, undefined);
    assert.equal(none.idle_in_transaction_session_timeout, undefined);
  });

  it("formats durations the way the options take them", () => {
    assert.deepEqual([300_000, 7_000, 5_400_000, 305_000, 0, 1_500].map(formatDuration), ["5m", "7s", "1h30m", "5m5s", "0s", "1500ms"]);
  });
});
