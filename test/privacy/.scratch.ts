import { idsync, populatedEngine } from "./fixture.ts";
const t = await populatedEngine();
try {
  for (const args of [["search", "zerlinda"], ["search", "Zer*"], ["search", "cartography-77", "--case-sensitive"], ["search", "E0007"], ["search", "--filter", 'object.department == "Sales"', "--limit", "3"], ["search", "--limit", "2"], ["search", "Sales", "--limit", "3", "--attribute", "department"],
    ["show", "hr/E0007"], ["show", "department=Sales"], ["subject", "export", "E0007", "--format", "csv"], ["subject", "erase", "E0007"], ["subject", "erase", "E0007", "--yes"], ["audit"], ["-o", "json", "audit"], ["retention", "--dry-run"], ["subject", "unsuppress", "E0007"]]) {
    const r = await idsync(t.url, args);
    console.log(`\n$ idsync ${args.join(" ")}  → exit ${r.code}\n${r.stdout}${r.stderr ? "STDERR: " + r.stderr : ""}`);
  }
} finally { await t.close(); }
