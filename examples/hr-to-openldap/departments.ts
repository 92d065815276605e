// Writes data/departments.csv from an HR export: one row per department, listing its members'
// employee ids, and one row per member that only names the person.
//
//   node --import tsx examples/hr-to-openldap/departments.ts [hr.csv] [departments.csv]
//
// Why the person rows: in idsync (as in MIM) a reference names an object of the SAME management
// agent. The department's `members` are references, so the people they name must be objects of the
// hr-departments MA too; those rows join the people's metaverse objects (projected from hr.csv) and
// are what the members resolve through. Members are the people HR counts as staff: active or on leave.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";

export const DEPARTMENT_COLUMNS = ["id", "kind", "name", "description", "members"] as const;

export interface Department {
  id: string;
  name: string;
  description?: string;
  members: string[];
}

/** The departments of an HR export (columns employeeId, department, status), members in file order. */
export function departmentsOf(hrCsv: string): Department[] {
  const rows = parse(hrCsv, { columns: true, skip_empty_lines: true, bom: true }) as Array<Record<string, string>>;
  const byName = new Map<string, Department>();
  for (const r of rows) {
    if (!r.department || !["active", "leave"].includes(r.status)) continue;
    let d = byName.get(r.department);
    if (!d) byName.set(r.department, (d = { id: departmentId(r.department), name: r.department, description: `Everyone in ${r.department}`, members: [] }));
    d.members.push(r.employeeId);
  }
  return [...byName.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A stable anchor from a department name: lower-case letters, digits and dashes. */
export function departmentId(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The departments.csv text: department rows, then one person row per distinct member. */
export function departmentsCsv(departments: Department[]): string {
  const lines = [DEPARTMENT_COLUMNS.join(",")];
  for (const d of departments) lines.push([d.id, "department", d.name, d.description ?? "", d.members.join(";")].map(cell).join(","));
  const people = [...new Set(departments.flatMap((d) => d.members))].sort();
  for (const p of people) lines.push([p, "person", "", "", ""].map(cell).join(","));
  return lines.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const hr = process.argv[2] ?? `${here}../quickstart/data/hr.csv`;
  const out = process.argv[3] ?? `${here}data/departments.csv`;
  const departments = departmentsOf(readFileSync(hr, "utf8"));
  writeFileSync(out, departmentsCsv(departments));
  console.log(`${out}: ${departments.length} departments, ${departments.reduce((n, d) => n + d.members.length, 0)} memberships`);
}
