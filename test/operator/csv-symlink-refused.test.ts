// A path under a CSV root can still lead out of it: a symbolic link on the volume. Before the CSV
// connector opens or creates anything it follows the links; one that leads out of the root fails
// the run — a RunFailed event says why — and the file it points at is never read.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { HR_COLUMNS, writeCsv } from "../engine/builders.ts";
import { apply, eventually, get, hrInboundRule, hrMa, NS, operatorScenario, person } from "./helpers.ts";

const outside = mkdtempSync(join(tmpdir(), "idsync-outside-"));
after(() => rmSync(outside, { recursive: true, force: true }));

describe("a CSV file that is a symbolic link out of its root", () => {
  const s = operatorScenario("operator_csv_symlink", async (cluster) => {
    const secret = join(outside, "secret-data.csv");
    writeCsv(secret, HR_COLUMNS, [person(1, { givenName: "Secret" })]);
    chmodSync(secret, 0o600);
    symlinkSync(secret, join(cluster.dir, "hr.csv"));
  });

  it("fails the run with the reason in a RunFailed event, and nothing is imported", async () => {
    await apply(s.cluster, hrMa(s.cluster.dir)); // test/hr.csv: valid as written
    await apply(s.cluster, hrInboundRule());
    const event = await eventually(async () => {
      const events = await s.cluster.core.listNamespacedEvent({ namespace: NS });
      return events.items.find((e) => e.involvedObject.name === "hr" && e.reason === "RunFailed");
    }, "a RunFailed event for hr");
    assert.equal(event.type, "Warning");
    assert.match(event.message ?? "", /hr\.csv leads \(through a symbolic link\) to .*secret-data\.csv, which is outside .*, the folder it must stay in/);
    const hr = await get(s.cluster, "ManagementAgent", "hr");
    assert.equal(hr?.status?.connectorSpace?.total ?? 0, 0, "nothing was read");
  });
});
