import { once } from 'node:events';
import { crc32, createDeflateRaw } from 'node:zlib';
import { entryContent, type ZipEntry, type ZipInput } from './zip-directory';

/**
 * exceljs's streaming reader turns every inflated chunk of a part into text on its own
 * (`Buffer#toString`), so a multi-byte UTF-8 character split across two chunks becomes two U+FFFD
 * (exceljs#2063): about one row in a thousand of a 100,000-row roster of Chinese names. We cannot
 * change how it decodes, but we can give it parts in which no character spans more than one byte:
 * the part is inflated and decoded here with a streaming decoder (which keeps a partial sequence for
 * the next chunk), every non-ASCII character is written as an XML character reference (张 → &#24352;,
 * which the XML parser turns back into the same character), and the now pure-ASCII part is deflated
 * into a new zip entry that replaces the original in the stream exceljs reads.
 *
 * Only text a parser decodes may be rewritten this way. Character references mean nothing inside
 * CDATA sections, comments or processing instructions; Excel and WPS write none of them in sheets or
 * shared strings, but another writer might put CDATA there, so a part with `<![CDATA[` is left as
 * it is (undefined: the caller streams the original, and the importers' check for U+FFFD remains).
 * A part that is not valid UTF-8 is left alone too: exceljs reports it as before.
 */

/** Cheap and fast: the armoured part only travels from us to exceljs in memory. */
const deflateLevel = 1;
/** `<![CDATA[` may straddle two decoded chunks: keep this many characters to look across. */
const cdataMarker = '<![CDATA[';

export async function asciiArmoredEntry(input: ZipInput, entry: ZipEntry): Promise<Buffer | undefined> {
  const content = await entryContent(input, entry);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const deflate = createDeflateRaw({ level: deflateLevel });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const flushed = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  let crc = 0;
  let size = 0;
  let tail = '';
  const write = async (text: string): Promise<boolean> => {
    const window = tail + text;
    if (window.includes(cdataMarker)) return false;
    tail = window.slice(-(cdataMarker.length - 1));
    const ascii = Buffer.from(toCharacterReferences(text), 'latin1');
    crc = crc32(ascii, crc);
    size += ascii.length;
    // Backpressure: never hold more than zlib's buffer of uncompressed text.
    if (!deflate.write(ascii)) await once(deflate, 'drain');
    return true;
  };
  try {
    for await (const chunk of content) {
      if (!(await write(decoder.decode(chunk as Buffer, { stream: true })))) {
        content.destroy();
        deflate.destroy();
        return undefined;
      }
    }
    if (!(await write(decoder.decode()))) {
      deflate.destroy();
      return undefined;
    }
  } catch (error) {
    deflate.destroy();
    if (error instanceof TypeError) return undefined; // not UTF-8: leave it to exceljs
    throw error;
  }
  deflate.end();
  await flushed;
  const data = Buffer.concat(compressed);
  return deflatedEntry(entry.name, data, crc, size);
}

/** Every character outside ASCII as a decimal character reference (code points, not UTF-16 halves). */
export function toCharacterReferences(text: string): string {
  return text.replace(/[^\u0000-\u007f]/gu, (character) => `&#${character.codePointAt(0)};`);
}

/** A deflated entry with its sizes in the local header (no data descriptor), name in UTF-8. */
function deflatedEntry(name: string, data: Buffer, crc: number, size: number): Buffer {
  if (size > 0xffff_ffff || data.length > 0xffff_ffff) {
    throw new RangeError(`${name} is too large for a zip entry without zip64`);
  }
  const nameBytes = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(0x0800, 6); // UTF-8 name
  header.writeUInt16LE(8, 8); // deflated
  header.writeUInt32LE(crc >>> 0, 14);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  return Buffer.concat([header, nameBytes, data]);
}
