import { open } from 'node:fs/promises';

/** End-of-central-directory record: 22 bytes plus a comment of up to 65,535 bytes. */
const endRecordSearchBytes = 22 + 65_535;
/** An XLSX's central directory lists a few dozen entries; a larger one is not a workbook we wrote or Excel did. */
const centralDirectoryBytesMax = 4 * 1024 * 1024;

/**
 * The entry names of a zip file, from its central directory. Used to check that
 * exceljs's streaming reader saw every part it needs (see xlsx-source). Returns
 * undefined when the directory cannot be found; the reader then reports the
 * broken zip itself.
 */
export async function zipEntryNames(
  input: { path: string } | { bytes: Uint8Array },
): Promise<string[] | undefined> {
  if ('bytes' in input) return namesFrom(input.bytes);
  const file = await open(input.path, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, endRecordSearchBytes);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    const end = findEndRecord(tail);
    if (end === undefined) return undefined;
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (directorySize > centralDirectoryBytesMax || directoryOffset + directorySize > size) return undefined;
    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    return readDirectory(directory, tail.readUInt16LE(end + 10));
  } finally {
    await file.close();
  }
}

function namesFrom(bytes: Uint8Array): string[] | undefined {
  const length = bytes.byteLength;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  const tailStart = Math.max(0, length - endRecordSearchBytes);
  const end = findEndRecord(buffer.subarray(tailStart));
  if (end === undefined) return undefined;
  const at = tailStart + end;
  const directorySize = buffer.readUInt32LE(at + 12);
  const directoryOffset = buffer.readUInt32LE(at + 16);
  if (directorySize > centralDirectoryBytesMax || directoryOffset + directorySize > length) return undefined;
  return readDirectory(
    buffer.subarray(directoryOffset, directoryOffset + directorySize),
    buffer.readUInt16LE(at + 10),
  );
}

function findEndRecord(tail: Buffer): number | undefined {
  for (let at = tail.length - 22; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) === 0x06054b50) return at;
  }
  return undefined;
}

function readDirectory(directory: Buffer, count: number): string[] | undefined {
  const names: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) return undefined;
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    names.push(directory.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
