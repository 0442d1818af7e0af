/* The member's session: the keystore, sign-in, and the keys kept in IndexedDB.
 *
 * A session holds the member's tier keys and what reopens their keystore entry (their
 * lookup and key-wrapping key), all as non-extractable CryptoKeys: when a build gives
 * a tier a new key, `refresh` fetches the member's entry again and they read on.
 *
 * "Remember me" on: the CryptoKeys are stored as they are. Off: they are stored
 * encrypted under a key whose bytes live only in a session cookie, which the browser
 * drops when it closes; what stays on disk then opens nothing.
 */

import {
  MK1Error, b64, b64encode, deriveMember, emailShard, epochLookup, importTierKey, layoutOf,
  normalizeEmail, openEnvelope, openKeystoreEntry, shardOf, subtle,
} from "./mk1.js";
import { keystoreURL, siteRoot } from "./site.js";

export const GENERIC =
  "That email and password do not match a membership. Check both and try again.";
const DB_NAME = "memberkit";
const COOKIE = "mk1session";
const RECORD = 2; // the shape of what is stored; earlier records are read as they were

const today = () => new Date().toISOString().slice(0, 10);

async function fetchJSON(url) {
  const response = await fetch(url, { cache: "no-cache", credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return response.json();
}

/** The keystore the page links to (in layout 2 its index: a few hundred bytes). */
async function fetchKeystore() {
  const url = keystoreURL();
  if (!url) throw new Error("this page has no keystore link");
  const keystore = await fetchJSON(url);
  if (keystore.format !== "mk1") throw new Error("keystore: unknown format");
  return { keystore, url };
}

let keystorePromise = null;

/** Fetched once a sign-in form shows, so that signing in waits only for PBKDF2. */
export function prefetchKeystore() {
  if (!keystorePromise) keystorePromise = fetchKeystore().catch(() => null);
  if (window.indexedDB) database().catch(() => null);
  return keystorePromise;
}

/** The entries of the shard `place` names (layouts 2 and 3), checked to be this keystore's. */
async function fetchShard({ keystore, url }, place) {
  const shard = shardOf(keystore, place);
  const found = await fetchJSON(new URL(shard.url, url));
  if (found.format !== "mk1" || found.site !== keystore.site || found.shard !== shard.prefix) {
    throw new MK1Error("tampered", `${shard.url} is not this keystore's shard`);
  }
  return found.members;
}

const emailShards = new Map(); // keystore URL, epoch and email: the shard's entries (a promise)

/** Layout 3: the shard of an email, fetched once while the keystore stays the same. */
function shardOfEmail(source, email) {
  const name = `${source.url}|${source.keystore.epoch}|${normalizeEmail(email)}`;
  if (!emailShards.has(name)) {
    const entries = emailShard(source.keystore.site, email).then((place) => fetchShard(source, place));
    entries.catch(() => emailShards.delete(name));
    emailShards.set(name, entries);
  }
  return emailShards.get(name);
}

/**
 * As soon as the sign-in form holds an email: fetch its shard (layout 3), so that
 * signing in waits for PBKDF2 alone.
 */
export async function prefetchShard(email) {
  const source = await prefetchKeystore();
  if (source && layoutOf(source.keystore) === 3 && /.@./.test(email)) {
    shardOfEmail(source, email).catch(() => null);
  }
}

/**
 * The member's entry, opened, or null when there is none for their keys. Layout 1
 * holds every entry; layout 2 one shard, that the lookup names; layout 3 the shard
 * that the email names, where the lookup is bound to the keystore's epoch.
 */
async function findEntry(source, member) {
  const { keystore } = source;
  let members = keystore.members;
  let { lookup } = member;
  const layout = layoutOf(keystore);
  if (layout === 3) {
    if (!member.lookupKey || !member.email) return null; // a session kept before layout 3
    [lookup, members] = await Promise.all([
      epochLookup(member.lookupKey, keystore.epoch), shardOfEmail(source, member.email)]);
  } else if (layout !== 1) {
    members = await fetchShard(source, lookup);
  }
  const value = members && Object.hasOwn(members, lookup) ? members[lookup] : "";
  if (!value) return null;
  try {
    return await openKeystoreEntry(keystore.site, member, value, lookup);
  } catch (error) {
    return null;
  }
}

/** "7 December 2026" as the site's language writes a day (`YYYY-MM-DD` given). */
export function longDate(day) {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  const options = { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" };
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options)
      .format(date);
  } catch (error) {
    return new Intl.DateTimeFormat(undefined, options).format(date); // a lang it does not know
  }
}

/**
 * An entry still valid today: its login link, and the membership, not yet over. An
 * entry that holds no key names the day a membership ended (PROTOCOL.md): MK1Error
 * "expired" with that day in `ended`, whatever this browser's clock says.
 */
function checkEntry(entry) {
  if (entry.link && entry.link < today()) {
    throw new MK1Error("link", `This login link expired on ${entry.link}. Sign in with your ` +
      "email and password, or ask for a new link.");
  }
  const keyless = !entry.keys || !Object.keys(entry.keys).length;
  if (entry.exp && (entry.exp < today() || keyless)) {
    const error = new MK1Error("expired", `Your membership ended on ${longDate(entry.exp)}.`);
    error.ended = entry.exp;
    throw error;
  }
}

let databasePromise = null;

/** What mark.js began reading as the page started (once), if it read this site's. */
function takeEarly(name) {
  const early = window.mk1early;
  if (!early || early.key !== sessionKey() || !early[name]) return null;
  const taken = early[name];
  early[name] = null;
  return taken;
}

/** One connection per page, opened early (with the keystore) so signing in is quick. */
function database() {
  if (!databasePromise) {
    databasePromise = takeEarly("db") || new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("sessions");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    databasePromise.catch(() => { databasePromise = null; });
  }
  return databasePromise;
}

/**
 * One request on the session store. A write is done when its transaction has
 * committed, not when its request succeeded: a page that navigates away in between
 * (signing in goes on to the next page at once) would abort it, and the session with it.
 */
async function store(mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction("sessions", mode);
    const request = action(transaction.objectStore("sessions"));
    request.onsuccess = () => {
      if (mode === "readonly") resolve(request.result);
    };
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(request.error || transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("session store: aborted"));
    if (mode !== "readonly" && transaction.commit) transaction.commit(); // no more requests
  });
}

const sessionKey = () => siteRoot().href;

// -- the session cookie: the key to what "Remember me" off stores -------------------

const cookiePath = () => siteRoot().pathname;
const cookieValue = () =>
  (document.cookie.split("; ").find((c) => c.startsWith(`${COOKIE}=`)) || "").split("=")[1] || "";

function setCookie(value, path = cookiePath()) {
  // No expiry: a session cookie, gone when the browser closes. The site's host gets it
  // with each request, as it gets every cookie of the site, and has no use for it.
  const secure = location.protocol === "https:" ? "; Secure" : "";
  const age = value ? "" : "; max-age=0";
  document.cookie = `${COOKIE}=${value}; path=${path}; SameSite=Strict${secure}${age}`;
}

const importCookieKey = (raw) =>
  subtle.importKey("raw", b64(raw), "AES-GCM", false, ["encrypt", "unwrapKey"]);

/** The session cookie's key, or null. */
async function cookieKey() {
  const raw = cookieValue();
  if (!raw) return null;
  try {
    return { raw, key: await importCookieKey(raw) };
  } catch (error) {
    return null; // not a key of ours
  }
}

/** A new key for the session cookie (set when the sign-in has succeeded). */
async function newCookieKey() {
  const raw = b64encode(crypto.getRandomValues(new Uint8Array(32)));
  return { raw, key: await importCookieKey(raw) };
}

async function sealKey(wrapping, raw) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv }, wrapping, raw));
  return { iv, data };
}

const unsealKey = (wrapping, sealed, algorithm = "AES-GCM", usages = ["decrypt"]) =>
  subtle.unwrapKey(
    "raw", sealed.data, wrapping, { name: "AES-GCM", iv: sealed.iv }, algorithm, false, usages);
const LOOKUP_KEY = [{ name: "HMAC", hash: "SHA-256" }, ["sign"]];

/** A stored record of "Remember me" off, opened with the cookie's key; or null. */
async function unseal(record) {
  const cookie = await cookieKey();
  if (!cookie) return null;
  try {
    const tiers = Object.entries(record.keys);
    const [kek, lookupKey, ...opened] = await Promise.all([
      unsealKey(cookie.key, record.kek),
      record.lookupKey && unsealKey(cookie.key, record.lookupKey, ...LOOKUP_KEY),
      ...tiers.map(([, held]) => unsealKey(cookie.key, held)),
    ]);
    const keys = Object.fromEntries(
      tiers.map(([tier, held], i) => [tier, { v: held.v, key: opened[i] }]));
    return {
      ...record, keys, kek, sealedKek: record.kek, lookupKey, sealedLookupKey: record.lookupKey,
    };
  } catch (error) {
    return null; // a cookie of another sign-in
  }
}

// -- the session ----------------------------------------------------------------------

/** `memberkit serve --as TIER|public`: the owner previews one audience's view. */
async function previewSession() {
  const meta = document.querySelector('meta[name="mk1-preview"]');
  if (!meta) return undefined;
  const preview = JSON.parse(meta.content);
  if (!preview.tier) return null;
  return {
    site: preview.site, name: `Preview: ${preview.tier}`, preview: true,
    keys: { [preview.tier]: { v: preview.v, key: await importTierKey(b64(preview.k)) } },
  };
}

let sessionPromise = null;

/** The signed-in member of this site, or null. */
export function loadSession() {
  if (!sessionPromise) {
    sessionPromise = (async () => {
      if (!subtle) return null;
      const preview = await previewSession();
      if (preview !== undefined) return preview;
      if (!window.indexedDB) return null;
      const early = takeEarly("record");
      if (early) database(); // and the connection it was read by, for what follows
      const read = early || store("readonly", (s) => s.get(sessionKey()));
      const record = await read.catch(() => null);
      if (!record) return null;
      if (record.remember) return record;
      // "Remember me" off: the keys open only with this browser session's cookie.
      const session = record.version === RECORD ? await unseal(record)
        : record.browserSession === cookieValue() && record; // signed in before: as it was
      if (session) return session;
      await signOut(false);
      return null;
    })();
  }
  return sessionPromise;
}

export async function signOut(reload = true) {
  sessionPromise = Promise.resolve(null);
  setCookie("");
  if (cookiePath() !== "/") setCookie("", "/"); // where sign-ins of before kept it
  await store("readwrite", (s) => s.delete(sessionKey())).catch(() => null);
  if (reload) location.reload();
}

/**
 * Keep the session `base` (site, email, remember, lookup, kek, lookupKey) with the
 * keys of `entry`, in this page and in IndexedDB. At sign-in, `raw` holds the bytes of
 * the key-wrapping key and the lookup key, and `cookie` the new session cookie's key;
 * a refresh keeps what was stored of the former and uses the cookie there is.
 */
async function keep(base, entry, raw, cookie, wait = true) {
  const raws = Object.entries(entry.keys).map(([tier, held]) => [tier, held.v, b64(held.k)]);
  const wrapping = base.remember ? null : cookie || (await cookieKey());
  if (!base.remember && !wrapping) return null;
  // All at once: each WebCrypto call is a trip to another thread.
  const [imported, sealed, sealedKek, sealedLookupKey] = await Promise.all([
    Promise.all(raws.map(([, , bytes]) => importTierKey(bytes))),
    wrapping && Promise.all(raws.map(([, , bytes]) => sealKey(wrapping.key, bytes))),
    wrapping && (raw ? sealKey(wrapping.key, raw.kek) : base.sealedKek),
    wrapping && (raw ? sealKey(wrapping.key, raw.lookupKey) : base.sealedLookupKey),
  ]);
  const keys = Object.fromEntries(raws.map(([tier, v], i) => [tier, { v, key: imported[i] }]));
  const session = {
    version: RECORD, site: base.site, email: base.email, name: entry.name, exp: entry.exp,
    link: entry.link || null, remember: base.remember, lookup: base.lookup, kek: base.kek,
    lookupKey: base.lookupKey || null, keys,
  };
  let record = session;
  if (wrapping) {
    Object.assign(session, { sealedKek, sealedLookupKey });
    const stored = Object.fromEntries(raws.map(([tier, v], i) => [tier, { v, ...sealed[i] }]));
    const { sealedKek: _, sealedLookupKey: __, ...fields } = session;
    record = { ...fields, kek: sealedKek, lookupKey: sealedLookupKey || null, keys: stored };
    if (cookie) {
      setCookie(cookie.raw);
      if (cookieValue() !== cookie.raw) return null; // cookies are turned off
    }
  }
  const written = store("readwrite", (s) => s.put(record, sessionKey()));
  saving = written.catch(() => null);
  sessionPromise = Promise.resolve(session);
  if (wait) await written;
  return session;
}

let saving = Promise.resolve(null);

/**
 * The session kept last, once it is written: a sign-in does not wait for the write
 * (the page opens meanwhile), a page that goes on to another does.
 */
export const sessionSaved = () => saving;

export async function signIn(email, password, remember) {
  const source = (await prefetchKeystore()) || (await fetchKeystore());
  keystorePromise = null;
  const { keystore } = source;
  const cookie = remember ? null : newCookieKey(); // made while PBKDF2 runs
  // Layout 3: the email names the shard, fetched while PBKDF2 runs (if not already).
  if (layoutOf(keystore) === 3) shardOfEmail(source, email).catch(() => null);
  const derived = await deriveMember(keystore.site, email, password, keystore.kdf.iterations);
  const member = { ...derived, email: normalizeEmail(email) };
  const entry = await findEntry(source, member);
  if (!entry) throw new MK1Error("credentials", GENERIC);
  checkEntry(entry);
  const base = {
    site: keystore.site, email: member.email, remember: Boolean(remember),
    lookup: member.lookup, kek: member.kek, lookupKey: member.lookupKey,
  };
  const raw = { kek: derived.kekBytes, lookupKey: derived.lookupKeyBytes };
  const session = await keep(base, entry, raw, await cookie, false);
  if (!session) throw new Error("this browser keeps no cookie: signing in needs one");
  return session;
}

let refreshing = null;

/**
 * The site was built again since the member signed in, and a tier key changed: fetch
 * the keystore (no-cache), reopen the member's entry, keep its keys. Null when the
 * session cannot be reopened (a preview, or a sign-in of before this was kept);
 * MK1Error "removed" (signed out) when the entry opens no more, or has ended.
 */
export function refresh() {
  if (!refreshing) refreshing = reopen().finally(() => { refreshing = null; });
  return refreshing;
}

async function reopen() {
  const session = await loadSession();
  if (!session || !session.lookup || !session.kek || session.version !== RECORD) return null;
  const source = await fetchKeystore();
  let entry = source.keystore.site === session.site ? await findEntry(source, session) : null;
  let ended = null; // a login link or a membership over: said as such
  if (entry) {
    try {
      checkEntry(entry);
    } catch (error) {
      [entry, ended] = [null, error];
    }
  }
  const fresh = entry && (await keep(session, entry));
  if (!fresh) {
    await signOut(false);
    throw ended || new MK1Error("removed", GENERIC);
  }
  return fresh;
}

let tierRenewed = false; // once a page: a tier the member holds since they signed in

/**
 * Open an envelope with the member's keys. Keys rotated since they signed in, or a
 * tier not held (the member may hold it since), are fetched again (`refresh`, once a
 * page for a tier) and the envelope opened with them. MK1Error "removed", "link" or
 * "expired" (signed out) when the member's entry opens no more; "unreachable" when
 * the keystore could not be fetched; "stale" when the session cannot be renewed;
 * "old" for an envelope of another build than the site's keys (a copy kept by a cache).
 */
export async function openSealed(bytes, path, session) {
  let failure;
  try {
    return await openEnvelope(bytes, path, session);
  } catch (error) {
    failure = error;
  }
  const tier = failure instanceof MK1Error && failure.code === "tier" && !tierRenewed;
  if (!(failure instanceof MK1Error && (failure.code === "stale" || tier))) throw failure;
  if (tier) tierRenewed = true;
  let fresh = await loadSession();
  if (!fresh || fresh === session) {
    try {
      fresh = await refresh();
    } catch (error) {
      if (error instanceof MK1Error) throw error; // the member's entry opens no more
      throw new MK1Error("unreachable", "the keystore could not be fetched");
    }
  }
  if (!fresh) throw failure; // a preview, or a session kept before entries could be reopened
  try {
    return await openEnvelope(bytes, path, fresh);
  } catch (error) {
    // The site's keys now, and still another one than the envelope's: this copy of the
    // file is from another build (a cache kept it); fetched again, it opens.
    if (error instanceof MK1Error && error.code === "stale") {
      throw new MK1Error("old", "a copy from another build than the keys");
    }
    throw error;
  }
}

/**
 * Fetch a sealed file of the site and open it. A copy older than the member's keys
 * (kept by a cache from before a build) is fetched once more, from the site itself.
 */
export async function fetchSealed(url, path, session) {
  for (const cache of ["default", "reload"]) {
    const response = await fetch(url, { cache, credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    try {
      return await openSealed(bytes, path, session);
    } catch (error) {
      if (!(error instanceof MK1Error && error.code === "old") || cache === "reload") throw error;
    }
  }
  throw new Error("unreachable"); // the loop returns or throws
}
