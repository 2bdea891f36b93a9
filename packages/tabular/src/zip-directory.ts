import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';

/** End-of-central-directory record: 22 bytes plus a comment of up to 65,535 bytes. */
const endRecordSearchBytes = 22 + 65_535;
/** An XLSX's central directory lists a few dozen entries; a larger one is not a workbook we wrote or Excel did. */
const centralDirectoryBytesMax = 4 * 1024 * 1024;

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

export type ZipInput = { readonly path: string } | { readonly bytes: Uint8Array };

/** An entry the directory lists whose local header is not where it says: a damaged file. */
export class DamagedZipEntry extends Error {}

/**
 * The entries of a zip file, from its central directory: used to check that
 * exceljs's streaming reader saw every part it needs, and to look inside a
 * sheet before it does (see xlsx-source). Returns undefined when the directory
 * cannot be found; the reader then reports the broken zip itself.
 */
export async function zipEntries(input: ZipInput): Promise<ZipEntry[] | undefined> {
  if ('bytes' in input) {
    const bytes = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
    return fromDirectory(bytes.length, async (offset, length) => bytes.subarray(offset, offset + length));
  }
  const file = await open(input.path, 'r');
  try {
    const { size } = await file.stat();
    return await fromDirectory(size, async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await file.close();
  }
}

type ReadAt = (offset: number, length: number) => Promise<Buffer>;

async function fromDirectory(size: number, readAt: ReadAt): Promise<ZipEntry[] | undefined> {
  const tailStart = Math.max(0, size - endRecordSearchBytes);
  const tail = await readAt(tailStart, size - tailStart);
  let end: number | undefined;
  for (let at = tail.length - 22; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end === undefined) return undefined;
  const count = tail.readUInt16LE(end + 10);
  const directorySize = tail.readUInt32LE(end + 12);
  const directoryOffset = tail.readUInt32LE(end + 16);
  if (directorySize > centralDirectoryBytesMax || directoryOffset + directorySize > size) return undefined;
  const directory = await readAt(directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) return undefined;
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    entries.push({
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry, streamed. Only stored and deflated entries (all XLSX writers use these). */
export async function entryContent(input: ZipInput, entry: ZipEntry): Promise<Readable> {
  if (entry.method !== 0 && entry.method !== 8) {
    throw new Error(`${entry.name}: zip compression method ${entry.method} is not supported`);
  }
  let header: Buffer;
  if ('bytes' in input) {
    if (entry.localHeaderOffset + 30 > input.bytes.byteLength)
      throw new DamagedZipEntry(`${entry.name}: local header past the end of the file`);
    header = Buffer.from(input.bytes.buffer, input.bytes.byteOffset + entry.localHeaderOffset, 30);
  } else {
    const file = await open(input.path, 'r');
    try {
      header = Buffer.alloc(30);
      await file.read(header, 0, 30, entry.localHeaderOffset);
    } finally {
      await file.close();
    }
  }
  if (header.readUInt32LE(0) !== 0x04034b50) throw new DamagedZipEntry(`${entry.name}: broken local header`);
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if ('bytes' in input && start + entry.compressedSize > input.bytes.byteLength)
    throw new DamagedZipEntry(`${entry.name}: data past the end of the file`);
  const raw =
    'bytes' in input
      ? Readable.from([Buffer.from(input.bytes.buffer, input.bytes.byteOffset + start, entry.compressedSize)])
      : createReadStream(input.path, { start, end: start + entry.compressedSize - 1 });
  return entry.method === 0 ? raw : raw.pipe(createInflateRaw());
}

/**
 * One entry exactly as stored (local header, name, extra field, compressed data
 * and data descriptor), to hand a zip's entries to a streaming reader in an
 * order of our choosing.
 */
export async function rawEntry(input: ZipInput, entry: ZipEntry): Promise<Buffer> {
  const readAt: ReadAt =
    'bytes' in input
      ? async (offset, length) => {
          // A truncated or lying zip names offsets past its end: read nothing there (the checks
          // below then call the entry damaged) rather than let Buffer.from throw a RangeError.
          const at = Math.min(Math.max(0, offset), input.bytes.byteLength);
          return Buffer.from(
            input.bytes.buffer,
            input.bytes.byteOffset + at,
            Math.max(0, Math.min(length, input.bytes.byteLength - at)),
          );
        }
      : async (offset, length) => {
          const file = await open(input.path, 'r');
          try {
            const buffer = Buffer.alloc(length);
            const { bytesRead } = await file.read(buffer, 0, length, offset);
            return buffer.subarray(0, bytesRead);
          } finally {
            await file.close();
          }
        };
  const header = await readAt(entry.localHeaderOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50)
    throw new DamagedZipEntry(`${entry.name}: broken local header`);
  const dataEnd =
    entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28) + entry.compressedSize;
  let length = dataEnd - entry.localHeaderOffset;
  // Bit 3: sizes follow the data in a descriptor, with or without its signature.
  if (header.readUInt16LE(6) & 0x08) {
    const signature = await readAt(dataEnd, 4);
    length += signature.length === 4 && signature.readUInt32LE(0) === 0x08074b50 ? 16 : 12;
  }
  return Buffer.from(await readAt(entry.localHeaderOffset, length));
}

/** A stored (uncompressed) entry, local header included. */
export function storedEntry(name: string, content: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const data = Buffer.from(content, 'utf8');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(0x0800, 6); // UTF-8 name
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt32LE(crc32(data), 14);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  return Buffer.concat([header, nameBytes, data]);
}
