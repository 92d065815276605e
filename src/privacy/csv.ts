// A subject's record as CSV, one value per row: section, object, attribute, value, detail. Flat so
// that it opens in a spreadsheet; multi-valued attributes give one row per value. A cell that a
// spreadsheet would run as a formula (= + - @ at the start, not a number) is prefixed with '.
import type { SubjectRecord } from "./collect.ts";

const HEADER = ["section", "object", "attribute", "value", "detail"];

function cell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?$/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function values(v: unknown): unknown[] {
  return Array.isArray(v) ? (v.length ? v : [""]) : [v];
}

export function subjectRows(r: SubjectRecord): unknown[][] {
  const rows: unknown[][] = [];
  const mv = r.metaverseObject;
  if (mv) {
    rows.push(["metaverse", `mv:${mv.id}`, "(object)", mv.objectType, `created ${mv.createdAt ?? ""}; updated ${mv.updatedAt ?? ""}${mv.deletedAt ? `; deleted ${mv.deletedAt}` : ""}`]);
    for (const a of r.attributes) {
      const supplied = a.suppliedBy ? `supplied by ${a.suppliedBy.ma} / ${a.suppliedBy.rule} (cs:${a.suppliedBy.csId ?? "?"}) since ${a.suppliedBy.at ?? "?"}` : "no lineage";
      const authority = a.authority ? `; source of authority ${a.authority.ma} (${a.authority.rule})` : "";
      for (const v of values(a.value)) rows.push(["metaverse", `mv:${mv.id}`, a.name, v, supplied + authority]);
      for (const e of a.exportedTo) {
        for (const v of values(e.value)) rows.push(["exported-to", e.object, e.attribute, v, `from metaverse attribute ${a.name}`]);
        if ("pending" in e) for (const v of values(e.pending)) rows.push(["exported-to", e.object, e.attribute, v, `pending export (${e.pendingState}) from metaverse attribute ${a.name}`]);
      }
    }
  }
  for (const [section, list] of [["connector", r.connectors], ["former-connector", r.formerConnectors]] as const) {
    for (const c of list) {
      const name = `${c.ma}/${c.anchor ?? `cs:${c.id}`}`;
      const state = `cs:${c.id}, ${c.objectType}, ${c.link}${c.deleted ? ", deleted in its system" : ""}; imported ${c.importedAt ?? "never"}; linked ${c.linkedAt ?? "-"}; disconnected ${c.disconnectedAt ?? "-"}`;
      rows.push([section, name, "(anchor)", c.anchor, state]);
      if (c.dn) rows.push([section, name, "(dn)", c.dn, ""]);
      for (const [k, v] of Object.entries(c.attrs)) for (const x of values(v)) rows.push([section, name, k, x, "as imported"]);
      for (const [rule, contributed] of Object.entries(c.contributions ?? {})) {
        for (const [k, v] of Object.entries(contributed)) for (const x of values(v)) rows.push(["contribution", name, k, x, `rule ${rule}`]);
      }
      for (const u of c.unresolvedReferences ?? []) rows.push(["unresolved-reference", name, "", u, "a referenced object not found yet"]);
    }
  }
  for (const p of r.pendingExports) {
    const name = `${p.ma}/${p.anchor ?? `cs:${p.csId}`}`;
    const detail = `${p.op} ${p.state}${p.exportedAt ? `, exported ${p.exportedAt}` : ""}${p.error ? `; error ${JSON.stringify(p.error)}` : ""}`;
    if (p.newDn) rows.push(["pending-export", name, "(new dn)", p.newDn, detail]);
    const changes = Object.entries(p.changes);
    if (changes.length === 0) rows.push(["pending-export", name, "", "", detail]);
    for (const [k, v] of changes) for (const x of values(v)) rows.push(["pending-export", name, k, x, detail]);
  }
  for (const e of r.runErrors) rows.push(["run-error", `run ${e.runId}`, e.code, e.message, `${e.ma}${e.anchor ? `/${e.anchor}` : ""}${e.dn ? ` dn=${e.dn}` : ""} at ${e.at ?? ""}`]);
  for (const m of r.runMessages) rows.push(["run-message", `run ${m.runId}`, m.profile, m.message, `${m.ma} at ${m.at ?? ""}`]);
  for (const x of r.referencedBy) rows.push(["referenced-by", `mv:${x.mvId}`, x.attribute, mv ? `mv:${mv.id}` : "", "another object references this subject"]);
  return rows;
}

export function subjectCsv(r: SubjectRecord): string {
  return [HEADER, ...subjectRows(r)].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}
