/* Zip archives (Word and Excel files are zips): read one, change some entries, write it
 * again. Deflate runs in the platform's (De)CompressionStream("deflate-raw"); the
 * archive's own records and CRC-32 are written here. No ZIP64, no encryption: what
 * the build makes is neither. */

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const UTF8_NAMES = 0x0800;
const DATA_DESCRIPTOR = 0x0008;

export class ZipError extends Error {}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as zip uses it) of some bytes. */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function through(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** One file of an archive: its name, its raw (compressed) bytes and what a rewrite keeps. */
class Entry {
  constructor(fields) {
    Object.assign(this, fields);
  }

  /** The file's bytes, checked against its CRC-32. */
  async bytes() {
    let data;
    if (this.method === 0) data = this.raw;
    else if (this.method === 8) data = await through(this.raw, new DecompressionStream("deflate-raw"));
    else throw new ZipError(`${this.name}: compression method ${this.method} is not supported`);
    if (data.length !== this.size || crc32(data) !== this.crc) {
      throw new ZipError(`${this.name}: damaged (size or CRC-32 does not match)`);
    }
    return data;
  }

  async text() {
    return decoder.decode(await this.bytes());
  }

  /** Replace the file's content (deflated, with its new CRC-32 and sizes). */
  async set(data) {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.raw = await through(bytes, new CompressionStream("deflate-raw"));
    this.method = 8;
    this.crc = crc32(bytes);
    this.size = bytes.length;
    this.flags &= ~DATA_DESCRIPTOR;
  }
}

/** The entries of a zip, in the order of its central directory. */
export function readZip(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at -= 1) {
    if (view.getUint32(at, true) === END) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new ZipError("not a zip file (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError("ZIP64 archives are not supported");
  const entries = [];
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) {
      throw new ZipError("damaged central directory");
    }
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const nameBytes = bytes.slice(at + 46, at + 46 + nameLength);
    const compressed = view.getUint32(at + 20, true);
    if (flags & 1) throw new ZipError("encrypted zip entries are not supported");
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) {
      throw new ZipError("damaged local header");
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > bytes.length) throw new ZipError("truncated entry");
    entries.push(new Entry({
      name: flags & UTF8_NAMES ? decoder.decode(nameBytes) : String.fromCharCode(...nameBytes),
      nameBytes,
      madeBy: view.getUint16(at + 4, true),
      flags,
      method: view.getUint16(at + 10, true),
      time: view.getUint16(at + 12, true),
      date: view.getUint16(at + 14, true),
      crc: view.getUint32(at + 16, true),
      size: view.getUint32(at + 24, true),
      internal: view.getUint16(at + 36, true),
      external: view.getUint32(at + 38, true),
      raw: bytes.subarray(start, start + compressed),
    }));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** A zip of these entries: local headers and data, then the central directory. */
export function writeZip(entries) {
  const size = entries.reduce((sum, e) => sum + 30 + 46 + 2 * e.nameBytes.length + e.raw.length, 22);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const common = (at, entry) => {
    view.setUint16(at, 20, true); // version needed: 2.0 (deflate)
    view.setUint16(at + 2, entry.flags & ~DATA_DESCRIPTOR, true);
    view.setUint16(at + 4, entry.method, true);
    view.setUint16(at + 6, entry.time, true);
    view.setUint16(at + 8, entry.date, true);
    view.setUint32(at + 10, entry.crc, true);
    view.setUint32(at + 14, entry.raw.length, true);
    view.setUint32(at + 18, entry.size, true);
    view.setUint16(at + 22, entry.nameBytes.length, true);
    view.setUint16(at + 24, 0, true); // no extra field
  };
  let at = 0;
  const offsets = [];
  for (const entry of entries) {
    offsets.push(at);
    view.setUint32(at, LOCAL, true);
    common(at + 4, entry);
    out.set(entry.nameBytes, at + 30);
    out.set(entry.raw, at + 30 + entry.nameBytes.length);
    at += 30 + entry.nameBytes.length + entry.raw.length;
  }
  const directory = at;
  entries.forEach((entry, i) => {
    view.setUint32(at, CENTRAL, true);
    view.setUint16(at + 4, entry.madeBy, true);
    common(at + 6, entry);
    view.setUint16(at + 32, 0, true); // no comment
    view.setUint16(at + 34, 0, true); // disk 0
    view.setUint16(at + 36, entry.internal, true);
    view.setUint32(at + 38, entry.external, true);
    view.setUint32(at + 42, offsets[i], true);
    out.set(entry.nameBytes, at + 46);
    at += 46 + entry.nameBytes.length;
  });
  view.setUint32(at, END, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, at - directory, true);
  view.setUint32(at + 16, directory, true);
  return out.subarray(0, at + 22);
}
