/**
 * Sets the modification time of every entry of a zip archive (local and central headers) to one
 * instant, so that an archive written twice from the same content is the same bytes. exceljs's
 * zip writer (JSZip) stamps each entry with the time it was added and offers no way to choose it.
 * Only the two-byte DOS time and date fields change; the archive must be one we wrote (no
 * multi-disk, no zip64), anything else is refused.
 */

const endOfCentralDirectory = 0x06054b50;
const centralHeader = 0x02014b50;
const localHeader = 0x04034b50;
/** Smallest end-of-central-directory record; a comment of up to 65,535 bytes may follow it. */
const endRecordBytes = 22;

/** DOS time and date (local fields of a zip header) of `at`, read in UTC; 1980 to 2107 only. */
export function dosDateTime(at: Date): { time: number; date: number } {
  const year = at.getUTCFullYear();
  if (year < 1980 || year > 2107)
    throw new RangeError(`a zip entry time must be in 1980–2107, got ${at.toISOString()}`);
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

export function withZipEntryTimes(archive: Uint8Array, at: Date): Buffer {
  const out = Buffer.from(archive);
  const { time, date } = dosDateTime(at);
  const fail = (what: string): never => {
    throw new Error(`withZipEntryTimes: ${what}`);
  };
  let end = -1;
  for (let p = out.length - endRecordBytes; p >= Math.max(0, out.length - endRecordBytes - 0xffff); p--) {
    if (out.readUInt32LE(p) === endOfCentralDirectory) {
      end = p;
      break;
    }
  }
  if (end < 0) fail('no end of central directory');
  const entries = out.readUInt16LE(end + 10);
  let p = out.readUInt32LE(end + 16);
  for (let i = 0; i < entries; i++) {
    if (p + 46 > out.length || out.readUInt32LE(p) !== centralHeader)
      fail(`entry ${i}: no central header at ${p}`);
    out.writeUInt16LE(time, p + 12);
    out.writeUInt16LE(date, p + 14);
    const local = out.readUInt32LE(p + 42);
    if (local + 30 > out.length || out.readUInt32LE(local) !== localHeader)
      fail(`entry ${i}: no local header at ${local}`);
    out.writeUInt16LE(time, local + 10);
    out.writeUInt16LE(date, local + 12);
    p += 46 + out.readUInt16LE(p + 28) + out.readUInt16LE(p + 30) + out.readUInt16LE(p + 32);
  }
  return out;
}
