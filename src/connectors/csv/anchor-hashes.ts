// A compact set of anchor hashes for the duplicate-anchor pass over a CSV file. A file of a million
// rows would need a Map of a million strings (~50 MB) to remember every anchor; 52-bit hashes in an
// open-addressing Float64Array need 16 MB. A hash seen twice makes its anchor a suspect: the rows of
// suspects are held back and decided exactly (by the anchor itself) at the end of the import, so a
// hash collision can never hold a row wrongly, only delay it.

/** A 52-bit hash of a string (two FNV-1a variants), never 0 (0 marks an empty slot). */
export function anchorHash(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return ((a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff)) || 1;
}

export class AnchorHashSet {
  private slots = new Float64Array(1 << 16);
  private size = 0;

  /** Adds the hash; false when it was there already. */
  add(h: number): boolean {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const added = insert(this.slots, h);
    if (added) this.size++;
    return added;
  }

  private grow(): void {
    const next = new Float64Array(this.slots.length * 2);
    for (const h of this.slots) if (h !== 0) insert(next, h);
    this.slots = next;
  }
}

function insert(slots: Float64Array, h: number): boolean {
  const mask = slots.length - 1;
  for (let i = h % slots.length; ; i = (i + 1) & mask) {
    if (slots[i] === 0) {
      slots[i] = h;
      return true;
    }
    if (slots[i] === h) return false;
  }
}
