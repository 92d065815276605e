// Seeded HR data: the same seed gives the same people, so benchmarks and examples are repeatable.
// People have managers (a tree per department under one CEO), a few contractors, people on leave,
// leavers and pre-hires, and names that need quoting and escaping.
import { createWriteStream } from "node:fs";
import { once } from "node:events";

const GIVEN = ["Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Katrin", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Xenia", "Yusuf", "Zoë", "Åsa", "Øystein", "Siobhán", "José"];
const FAMILY = ["Smith", "Müller", "García", "Nguyen", "Kowalski", "Rossi", "Dubois", "Jensen", "Ødegård", "Yilmaz", "Kim", "Silva", "Novak", "Schmidt", "Brown", "Okafor", "Tanaka", "Ivanova", "Lefèvre", "D'Angelo", "O'Neill", "van der Berg", "Núñez", "Fischer", "Andersson"];
const DEPARTMENTS = ["Engineering", "Sales", "Finance", "People", "Operations", "Legal", "Marketing", "Support"];
const TITLES = ["Associate", "Specialist", "Senior Specialist", "Lead", "Manager"];

export interface Person {
  employeeId: string;
  givenName: string;
  sn: string;
  department: string;
  title: string;
  managerId: string;
  status: "active" | "leave" | "leaver" | "pending";
  employeeType: "employee" | "contractor";
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function employeeId(n: number): string {
  return "E" + String(n).padStart(6, "0");
}

export function* people(count: number, seed = 42): Generator<Person> {
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const heads = new Map<string, number>();
  for (let n = 1; n <= count; n++) {
    const department = n === 1 ? "Executive" : pick(DEPARTMENTS);
    let managerId = "";
    if (n > 1) {
      const head = heads.get(department);
      if (head === undefined) {
        heads.set(department, n);
        managerId = employeeId(1);
      } else {
        // someone earlier in the same department, or its head: a tree, no cycles
        managerId = employeeId(rand() < 0.5 ? head : Math.max(head, Math.floor(rand() * (n - 1)) + 1));
      }
    }
    const r = rand();
    yield {
      employeeId: employeeId(n),
      givenName: pick(GIVEN),
      sn: pick(FAMILY),
      department,
      title: n === 1 ? "Chief Executive" : pick(TITLES),
      managerId,
      status: n === 1 ? "active" : r < 0.94 ? "active" : r < 0.97 ? "leave" : r < 0.985 ? "leaver" : "pending",
      employeeType: rand() < 0.1 ? "contractor" : "employee",
    };
  }
}

export const HR_COLUMNS: Array<keyof Person> = ["employeeId", "givenName", "sn", "department", "title", "managerId", "status", "employeeType"];

export function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function personRow(p: Person): string {
  return HR_COLUMNS.map((c) => csvCell(p[c])).join(",");
}

export async function writeHrCsv(path: string, rows: Iterable<Person>): Promise<number> {
  const out = createWriteStream(path);
  out.write(HR_COLUMNS.join(",") + "\n");
  let n = 0;
  let buf = "";
  for (const p of rows) {
    buf += personRow(p) + "\n";
    n++;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");
  return n;
}
