// The LDAP Post-Read control (RFC 4527): the server answers an add with the new entry's requested
// attributes, so the server-assigned entryUUID comes back with the add itself instead of costing a
// second round trip. OpenLDAP supports it; a server that does not simply ignores the (non-critical)
// control, and the connector then reads the entry back with a search.
//
// ldapts hands a response control of an unknown type to the request control of the same type to
// parse, which is how the entry reaches this object. One instance per request.
import { Attribute, BerWriter, Control, type BerReader, type Entry } from "ldapts";

export class PostReadControl extends Control {
  static readonly type = "1.3.6.1.1.13.2";
  /** The entry as the server returned it after the operation, when it did. */
  entry?: Entry;

  constructor(private readonly attributes: string[]) {
    super(PostReadControl.type, { critical: false });
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    for (const a of this.attributes) value.writeString(a);
    value.endSequence();
    writer.writeBuffer(value.buffer, 0x04);
  }

  protected override parseControl(reader: BerReader): void {
    try {
      if (reader.readSequence(0x64) === null) return; // [APPLICATION 4] SearchResultEntry
      const dn = reader.readString() ?? "";
      reader.readSequence();
      const end = reader.offset + reader.length;
      const entry: Entry = { dn };
      while (reader.offset < end) {
        const a = new Attribute();
        a.parse(reader);
        entry[a.type] = a.values;
      }
      this.entry = entry;
    } catch {
      this.entry = undefined; // malformed: fall back to reading the entry back
    }
  }
}
