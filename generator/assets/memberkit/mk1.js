/* MK1 (PROTOCOL.md) with WebCrypto and DecompressionStream only: member keys,
 * keystore entries and envelopes. No DOM, no state. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const subtle = globalThis.crypto && globalThis.crypto.subtle;
const MAGIC = "MK1\n";

/** Base64 (URL-safe, or standard) without padding, or with it, to bytes. */
export const b64 = (text) => {
  if (Uint8Array.fromBase64) {
    try {
      const alphabet = /[+/]/.test(text) ? "base64" : "base64url";
      return Uint8Array.fromBase64(text, { alphabet });
    } catch (error) {
      // both alphabets at once, or not base64: as atob takes it, or refuses it
    }
  }
  const base = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base + "=".repeat((4 - (base.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};
export const b64encode = (bytes) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
export const text = (bytes) => decoder.decode(bytes);

// NFKC, trim (the same characters Python strips), lowercase A-Z only.
export const normalizeEmail = (email) =>
  email.normalize("NFKC").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
export const normalizePassword = (password) => password.normalize("NFKC").trim();

/** A failure the page can explain: code is tampered, moved, tier, stale or credentials. */
export class MK1Error extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function hmac(key, data) {
  return new Uint8Array(await subtle.sign("HMAC", key, encoder.encode(data)));
}

export const importLookupKey = (raw) =>
  subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

/**
 * PBKDF2, then the lookup id, the key-wrapping key and the lookup key (PROTOCOL.md).
 * The raw bytes of the last two come along for a session kept under a cookie's key.
 */
export async function deriveMember(site, email, password, iterations) {
  const secret = await subtle.importKey(
    "raw", encoder.encode(normalizePassword(password)), "PBKDF2", false, ["deriveKey"]);
  const salt = encoder.encode(`mk1|${site}|${normalizeEmail(email)}`);
  // The 256 bits of PBKDF2 as an HMAC key at once (as deriveBits, then importKey): one
  // trip to WebCrypto's thread fewer.
  const macKey = await subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations }, secret,
    { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
  const wrap = hmac(macKey, "mk1 wrap");
  const mac = hmac(macKey, "mk1 lookup");
  const [lookup, kekBytes, kek, lookupKeyBytes, lookupKey] = await Promise.all([
    mac.then((bytes) => hex(bytes.slice(0, 16))),
    wrap,
    wrap.then((raw) => subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"])),
    mac,
    mac.then(importLookupKey),
  ]);
  return { lookup, kek, kekBytes, lookupKey, lookupKeyBytes };
}

/** Layout 3: a member's lookup, bound to the keystore's roster epoch. */
export const epochLookup = async (lookupKey, epoch) =>
  hex((await hmac(lookupKey, `mk1|epoch|${epoch}`)).slice(0, 16));

/** Layout 3: the hex digest whose first digits name a member's shard. */
export async function emailShard(site, email) {
  const data = encoder.encode(`mk1|shard|${site}|${normalizeEmail(email)}`);
  return hex(new Uint8Array(await subtle.digest("SHA-256", data)));
}

export const importTierKey = (raw) => subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);

async function decrypt(key, blob, aad) {
  try {
    return new Uint8Array(await subtle.decrypt(
      { name: "AES-GCM", iv: blob.slice(0, 12), additionalData: aad, tagLength: 128 },
      key, blob.slice(12)));
  } catch (error) {
    throw new MK1Error("tampered", "authentication failed");
  }
}

export async function inflate(bytes) {
  // Written to the stream at once: a Blob's stream piped through it takes several times
  // as long for a page.
  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  writer.write(bytes).catch(() => null); // a failure is the reader's to report
  writer.close().catch(() => null);
  return new Uint8Array(await new Response(stream.readable).arrayBuffer());
}

export const layoutOf = (keystore) => (keystore.layout === undefined ? 1 : keystore.layout);

/**
 * Where a member's entry is, relative to the keystore the page links to: null in
 * layout 1 (the keystore holds every entry); the shard that `place` names in layouts
 * 2 (`place`: the lookup) and 3 (`place`: `emailShard`).
 */
export function shardOf(keystore, place) {
  const layout = layoutOf(keystore);
  if (layout === 1) return null;
  const shards = keystore.shards;
  if (![2, 3].includes(layout) || !shards || !(shards.digits >= 1 && shards.digits <= 4)) {
    throw new MK1Error("tampered", `unknown keystore layout ${layout}`);
  }
  const prefix = place.slice(0, shards.digits);
  return { prefix, url: String(shards.url).replace("{shard}", prefix) };
}

/** A member's keystore entry, filed under `lookup`: {name, exp, link?, keys: {tier: {v, k}}, r?}. */
export async function openKeystoreEntry(site, member, value, lookup = member.lookup) {
  const aad = encoder.encode(`mk1|keys|${site}|${lookup}`);
  const plain = await decrypt(member.kek, b64(value), aad);
  return JSON.parse(decoder.decode(plain).trimEnd());
}

function readHeader(bytes) {
  if (decoder.decode(bytes.slice(0, 4)) !== MAGIC) throw new MK1Error("tampered", "not MK1");
  const end = bytes.indexOf(10, 4);
  if (end < 0) throw new MK1Error("tampered", "no header end");
  try {
    return { header: JSON.parse(decoder.decode(bytes.slice(4, end))), end };
  } catch (error) {
    throw new MK1Error("tampered", "header is not JSON");
  }
}

/** Check site and path, decrypt with the tier key held, inflate. */
export async function openEnvelope(bytes, path, session) {
  const { header, end } = readHeader(bytes);
  if (header.site !== session.site) throw new MK1Error("moved", "envelope of another site");
  if (header.path !== path) throw new MK1Error("moved", `envelope for ${header.path}`);
  const held = session.keys[header.tier];
  if (!held) throw new MK1Error("tier", `no key for ${header.tier}`);
  // `v` names a key (PROTOCOL.md, "Tier keys"): compared for equality only. Another
  // key than the envelope's: the keys changed since sign-in, or this copy of the file
  // is from another build than the keys (a cache kept it); `openSealed` tells which.
  if (held.v !== header.v) throw new MK1Error("stale", "another key than the envelope's");
  let data = await decrypt(held.key, bytes.slice(end + 1), bytes.slice(0, end));
  if (header.z === "deflate-raw") data = await inflate(data);
  return { header, data };
}
