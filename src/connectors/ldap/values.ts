// Attribute values between LDAP and the engine's Attributes.
//
// Reading: attribute names are matched case-insensitively and through the server's aliases, and
// reported under the declared spelling. Declared types decide the form: binary → base64, reference
// → normalized DN, integer → number, boolean → true/false, datetime → ISO 8601 (GeneralizedTime on
// the wire). Multi-valued attributes are sorted string arrays (the engine compares them as sets).
// Writing is the reverse; a datetime may be given as ISO 8601 or as GeneralizedTime.
import type { Entry } from "ldapts";
import type { AttributeSpec } from "../../config/model.ts";
import type { AttrValue, Attributes } from "../types.ts";
import { normalizeDN } from "./dn.ts";
import type { DirectorySchema } from "./schema.ts";
import { ENTRY_UUID, type LdapTypePlan, type ServerAnchor } from "./settings.ts";

/** Operational attributes the connector reads for itself (anchor and delta watermark). */
export const OPERATIONAL = ["entryUUID", "entryCSN", "modifyTimestamp"];
const NO_USER_MODIFICATION = new Set(["entryuuid", "entrycsn", "modifytimestamp", "createtimestamp", "creatorsname", "modifiersname", "entrydn", "structuralobjectclass", "subschemasubentry", "hassubordinates"]);

/** How one object type's attributes are named on the wire. */
export interface AttributeMap {
  /** Attribute descriptions to request in a search (declared + operational, ;binary where needed). */
  requested: string[];
  /** Names ldapts must hand back as Buffers. */
  buffers: string[];
  /** The declared attribute for a name the server used (any case, alias or OID). */
  spec(name: string): AttributeSpec | undefined;
  /** The name to write an attribute under: the declared spelling, with ;binary when required. */
  wireName(name: string): string;
  /** What an attribute description returned by the server is to us (memoized per description). */
  classify(description: string): Classified;
  /** The plan's server-assigned anchor: how readEntry turns its value into the anchor string. */
  anchor?: ServerAnchor;
  decoders?: ReadonlyMap<string, (value: Buffer) => string>;
}

/** An attribute description from the server: the declared attribute and/or an operational one. */
interface Classified {
  spec?: AttributeSpec;
  /** "anchor": the server-assigned anchor (entryUUID, objectGUID). */
  operational?: "anchor" | "entrycsn" | "modifytimestamp";
  /** Tagged (cn;lang-de) or otherwise not ours. */
  skip: boolean;
}

export function attributeMap(plan: LdapTypePlan | undefined, schema: DirectorySchema): AttributeMap {
  const byKey = new Map<string, AttributeSpec>();
  for (const a of plan?.attributes ?? []) byKey.set(schema.key(a.name), a);
  const wire = (name: string) => (schema.binaryTransfer(name) ? `${name};binary` : name);
  const anchor = plan?.serverAnchor;
  const anchorKey = anchor ? schema.key(anchor.attribute) : "entryuuid";
  const operational = plan?.operational ?? OPERATIONAL;
  const requested = [...new Set([...(plan?.attributes ?? []).map((a) => wire(a.name)), ...operational, ...(anchor ? [anchor.attribute] : [])])];
  const buffers: string[] = [];
  if (anchor?.binary) buffers.push(anchor.attribute, schema.serverName(anchor.attribute));
  for (const a of plan?.attributes ?? []) {
    if (a.type !== "binary" && !plan?.decoders?.has(a.name.toLowerCase())) continue;
    // ldapts matches these names case-sensitively against what the server sends back.
    const server = schema.serverName(a.name);
    buffers.push(a.name, server, wire(a.name), wire(server));
  }
  const seen = new Map<string, Classified>();
  const classify = (description: string): Classified => {
    let c = seen.get(description);
    if (c) return c;
    const [base, ...options] = description.split(";");
    // Tagged values (cn;lang-de) are other attributes for our purpose; only ;binary is the same.
    if (options.some((o) => o.toLowerCase() !== "binary")) {
      c = { skip: true };
    } else {
      const key = schema.key(base);
      const operational = key === anchorKey ? "anchor" : key === "entrycsn" || key === "modifytimestamp" ? key : undefined;
      const spec = byKey.get(key);
      c = { spec, operational, skip: !spec && !operational };
    }
    seen.set(description, c);
    return c;
  };
  return {
    requested,
    buffers: [...new Set(buffers)],
    spec: (name) => byKey.get(schema.key(name)),
    wireName: (name) => wire(byKey.get(schema.key(name))?.name ?? name),
    classify,
    anchor,
    decoders: plan?.decoders,
  };
}

export function isNoUserModification(name: string): boolean {
  return NO_USER_MODIFICATION.has(name.toLowerCase());
}

type RawValue = Entry[string];

function rawList(v: RawValue): Array<string | Buffer> {
  if (Array.isArray(v)) return v;
  return [v];
}

/** The values of one attribute of an entry, whatever case/alias the server used. */
export function entryValues(entry: Entry, name: string, schema: DirectorySchema): Array<string | Buffer> {
  const key = schema.key(name);
  for (const [type, v] of Object.entries(entry)) {
    if (type === "dn") continue;
    const base = type.split(";")[0];
    if (schema.key(base) === key) return rawList(v);
  }
  return [];
}

export interface ReadEntry {
  attrs: Attributes;
  /** The server-assigned anchor's string (entryUUID, objectGUID) when the entry carries it. */
  serverAnchor?: string;
  entryCSN?: string;
  modifyTimestamp?: string;
  problems: string[];
  /**
   * Why the entry cannot be stored at all: a value holds a NUL character (U+0000), which no
   * PostgreSQL text or jsonb value can hold. Such an entry is an object error, not the run's.
   */
  rejected?: string;
}

const text = (v: string | Buffer): string => (Buffer.isBuffer(v) ? v.toString("utf8") : v);

/** Maps a search entry to declared attributes; problems are per-attribute oddities, not failures. */
export function readEntry(entry: Entry, map: AttributeMap): ReadEntry {
  const out: ReadEntry = { attrs: {}, problems: [] };
  for (const type in entry) {
    if (type === "dn") continue;
    const c = map.classify(type);
    if (c.skip) continue;
    const values = rawList(entry[type]);
    if (values.length === 0) continue;
    if (c.operational === "anchor") out.serverAnchor = (map.anchor ?? ENTRY_UUID).read(values[0]);
    else if (c.operational === "entrycsn") out.entryCSN = values.length === 1 ? text(values[0]) : values.map(text).sort().at(-1);
    else if (c.operational === "modifytimestamp") out.modifyTimestamp = text(values[0]);
    const spec = c.spec;
    if (!spec) continue;
    if (spec.type !== "binary" && out.rejected === undefined && !map.decoders?.has(spec.name.toLowerCase())) {
      const bad = values.find((v) => (Buffer.isBuffer(v) ? v.includes(0) : v.includes("\u0000")));
      if (bad !== undefined) out.rejected = `attribute ${spec.name} holds a NUL character (U+0000), which no attribute value may hold; declare it type binary if it is binary data`;
    }
    if (spec.multiValued) {
      const list: string[] = [];
      for (const v of values) list.push(String(fromWire(spec, v, out.problems, map.decoders)));
      out.attrs[spec.name] = list.sort();
    } else {
      if (values.length > 1) {
        out.problems.push(`attribute ${spec.name} is declared single-valued but has ${values.length} values; the first is used`);
      }
      out.attrs[spec.name] = fromWire(spec, values[0], out.problems, map.decoders);
    }
  }
  return out;
}

function fromWire(
  spec: AttributeSpec,
  v: string | Buffer,
  problems: string[],
  decoders?: ReadonlyMap<string, (value: Buffer) => string>,
): string | number | boolean {
  const decode = decoders?.get(spec.name.toLowerCase());
  if (decode) {
    const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8");
    try {
      return decode(bytes);
    } catch (err) {
      problems.push(`attribute ${spec.name}: ${(err as Error).message}; kept as base64`);
      return bytes.toString("base64");
    }
  }
  switch (spec.type ?? "string") {
    case "binary":
      return (Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8")).toString("base64");
    case "reference": {
      const s = Buffer.isBuffer(v) ? v.toString("utf8") : v;
      try {
        return normalizeDN(s);
      } catch {
        problems.push(`attribute ${spec.name}: ${JSON.stringify(s)} is not a DN; kept as is`);
        return s;
      }
    }
    case "integer": {
      const s = Buffer.isBuffer(v) ? v.toString("utf8") : v;
      const n = Number(s);
      return /^-?\d+$/.test(s.trim()) && Number.isSafeInteger(n) ? n : s;
    }
    case "boolean": {
      const s = (Buffer.isBuffer(v) ? v.toString("utf8") : v).trim().toUpperCase();
      return s === "TRUE" ? true : s === "FALSE" ? false : s;
    }
    case "datetime":
      return generalizedTimeToIso(Buffer.isBuffer(v) ? v.toString("utf8") : v);
    default:
      return Buffer.isBuffer(v) ? v.toString("utf8") : v;
  }
}

/** The values to write for an attribute; [] for null / empty. */
export function toWire(spec: AttributeSpec | undefined, value: AttrValue | undefined): Array<string | Buffer> {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: Array<string | Buffer> = [];
  for (const v of list) {
    if (v === null || v === undefined || v === "") continue;
    switch (spec?.type ?? "string") {
      case "binary":
        out.push(Buffer.from(String(v), "base64"));
        break;
      case "boolean":
        out.push(v === true || String(v).toLowerCase() === "true" ? "TRUE" : v === false || String(v).toLowerCase() === "false" ? "FALSE" : String(v));
        break;
      case "datetime":
        out.push(isoToGeneralizedTime(String(v)));
        break;
      default:
        out.push(String(v));
    }
  }
  return out;
}

/** A comparison key for one wire value: DNs compare normalized, binaries by bytes, the rest exactly. */
export function valueKey(spec: AttributeSpec | undefined, v: string | Buffer): string {
  if (Buffer.isBuffer(v)) return "b:" + v.toString("base64");
  if (spec?.type === "reference") {
    try {
      return "d:" + normalizeDN(v);
    } catch {
      return "s:" + v;
    }
  }
  return "s:" + v;
}

const GEN_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/;

/** 20240131120000Z → 2024-01-31T12:00:00Z (fraction and offset kept); other text unchanged. */
export function generalizedTimeToIso(s: string): string {
  const m = GEN_TIME.exec(s.trim());
  if (!m) return s;
  const [, y, mo, d, h, mi = "00", sec = "00", frac, zone = "Z"] = m;
  const z = zone === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return `${y}-${mo}-${d}T${h}:${mi}:${sec}${frac ? "." + frac : ""}${z}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** 2024-01-31T12:00:00Z → 20240131120000Z; a GeneralizedTime or other text is returned unchanged. */
export function isoToGeneralizedTime(s: string): string {
  const m = ISO.exec(s.trim());
  if (!m) return s;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", frac, zone = "Z"] = m;
  const z = zone === "Z" ? "Z" : zone.replace(":", "");
  return `${y}${mo}${d}${h}${mi}${sec}${frac ? "." + frac : ""}${z}`;
}
