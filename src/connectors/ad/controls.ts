// The AD request controls ldapts does not ship: DirSync, Show Deleted, Tree Delete.
//
// ldapts hands a response control whose OID equals a request control's OID to that request
// control's parseControl, so the DirSync cookie of SearchResultDone lands in the request object.
import { Ber, BerWriter, Control, type BerReader } from "ldapts";

/** LDAP_DIRSYNC_OBJECT_SECURITY: only what the bind account may read, without the replication right. */
export const DIRSYNC_OBJECT_SECURITY = 0x1;
/** LDAP_DIRSYNC_INCREMENTAL_VALUES: linked attributes (member) as added/removed values, not the whole list. */
export const DIRSYNC_INCREMENTAL_VALUES = 0x80000000 | 0;

export class DirSyncControl extends Control {
  static readonly type = "1.2.840.113556.1.4.841";
  /** The server's answer: more changes wait (read again with the new cookie). */
  moreData = false;
  cookie: Buffer;

  constructor(
    cookie: Buffer = Buffer.alloc(0),
    private readonly flags = 0,
    private readonly maxBytes = 0x7fffffff,
  ) {
    super(DirSyncControl.type, { critical: true });
    this.cookie = cookie;
  }

  protected override writeControl(writer: BerWriter): void {
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(this.flags);
    w.writeInt(this.maxBytes);
    w.writeBuffer(this.cookie, Ber.OctetString);
    w.endSequence();
    writer.writeBuffer(w.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    // SEQUENCE { moreData INTEGER, unused INTEGER, cookie OCTET STRING }
    if (!reader.readSequence()) return;
    this.moreData = (reader.readInt() ?? 0) !== 0;
    reader.readInt();
    this.cookie = (reader.readString(Ber.OctetString, true) as Buffer | null) ?? Buffer.alloc(0);
  }
}

/** Returns deleted objects (tombstones) too. No value. */
export function showDeletedControl(): Control {
  return new Control("1.2.840.113556.1.4.417", { critical: true });
}

/** Deletes an entry with everything below it (an OU and its users). No value. */
export function treeDeleteControl(): Control {
  return new Control("1.2.840.113556.1.4.805", { critical: true });
}
