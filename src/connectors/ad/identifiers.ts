// objectGUID and objectSid: binary on the wire, shown everywhere in AD's own string forms.
//
// A GUID's 16 bytes are a little-endian Data1 (4 bytes), Data2 (2), Data3 (2) and then 8 bytes in
// order, so "cf871754-6ab8-4cc3-9ebc-d7287c7bf544" is sent as 54 17 87 cf b8 6a c3 4c 9e bc d7 …
// A SID is revision, sub-authority count, a 6-byte big-endian identifier authority and that many
// 32-bit little-endian sub-authorities: S-1-5-21-…-1106.

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuidText(s: string): boolean {
  return GUID_TEXT.test(s);
}

/** 16 bytes → "cf871754-6ab8-4cc3-9ebc-d7287c7bf544". */
export function guidToString(b: Buffer): string {
  if (b.length !== 16) throw new Error(`an objectGUID has 16 bytes, this value has ${b.length}`);
  const h = b.toString("hex");
  const le = (s: string) => s.match(/../g)!.reverse().join("");
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** "cf871754-6ab8-4cc3-9ebc-d7287c7bf544" → its 16 wire bytes. */
export function guidToBytes(s: string): Buffer {
  if (!isGuidText(s)) throw new Error(`${JSON.stringify(s)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  const h = s.replace(/-/g, "").toLowerCase();
  const le = (t: string) => t.match(/../g)!.reverse().join("");
  return Buffer.from(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16), "hex");
}

/** Binary SID → "S-1-5-21-…". */
export function sidToString(b: Buffer): string {
  if (b.length < 8) throw new Error(`a SID has at least 8 bytes, this value has ${b.length}`);
  const count = b[1];
  if (b.length !== 8 + 4 * count) throw new Error(`a SID with ${count} sub-authorities has ${8 + 4 * count} bytes, this value has ${b.length}`);
  const authority = b.readUIntBE(2, 6);
  const parts = [`S-${b[0]}-${authority}`];
  for (let i = 0; i < count; i++) parts.push(String(b.readUInt32LE(8 + 4 * i)));
  return parts.join("-");
}

/** "S-1-5-21-…" → binary SID. */
export function sidToBytes(s: string): Buffer {
  const m = /^S-(\d+)-(\d+)((?:-\d+)*)$/i.exec(s.trim());
  if (!m) throw new Error(`${JSON.stringify(s)} is not a SID (S-1-5-21-…)`);
  const subs = m[3] === "" ? [] : m[3].slice(1).split("-").map(Number);
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = Number(m[1]);
  b[1] = subs.length;
  b.writeUIntBE(Number(m[2]), 2, 6);
  subs.forEach((v, i) => b.writeUInt32LE(v, 8 + 4 * i));
  return b;
}
