// Structured logs: one JSON object per line, and nothing that could be a credential in them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/operator/log.ts";

describe("logs", () => {
  it("write one JSON line per event with the logger's fields", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l) }).child({ identity: "r1" });
    log.debug("hidden");
    log.info("run finished", { ma: "hr", counts: { adds: 2 } });
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]);
    assert.equal(record.level, "info");
    assert.equal(record.msg, "run finished");
    assert.equal(record.identity, "r1");
    assert.deepEqual(record.counts, { adds: 2 });
    assert.ok(!Number.isNaN(Date.parse(record.time)));
  });

  it("never contain passwords, tokens or URL credentials", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.warn("database not reachable", {
      error: "connect to postgres://idsync:s3cret@db:5432/idsync failed",
      password: "hunter2",
      nested: { bearerToken: "abc.def", list: [{ clientSecret: "zzz" }] },
    });
    assert.doesNotMatch(lines[0], /s3cret|hunter2|abc\.def|zzz/);
    const record = JSON.parse(lines[0]);
    assert.equal(record.error, "connect to postgres://idsync:****@db:5432/idsync failed");
    assert.equal(record.password, "****");
  });
});
