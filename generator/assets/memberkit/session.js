/* The member's session: the keystore (its index, then the member's shard), sign-in,
 * and the tier keys kept in IndexedDB as non-extractable CryptoKeys. */

import {
  MK1Error, b64, deriveMember, hex, importTierKey, openKeystoreEntry, shardOf, subtle,
} from "./mk1.js";
import { keystoreURL, siteRoot } from "./site.js";

export const GENERIC =
  "That email and password do not match a membership. Check both and try again.";
const DB_NAME = "memberkit";
const COOKIE = "mk1session";

let keystorePromise = null;

/** Fetched once a sign-in form shows, so that signing in waits only for PBKDF2. */
export function prefetchKeystore() {
  if (!keystorePromise) keystorePromise = fetchKeystore().catch(() => null);
  if (window.indexedDB) database().catch(() => null);
  return keystorePromise;
}

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

/**
 * The member's entry, opened, or null when there is none for their keys. Layout 1
 * holds every entry; layout 2 one shard, fetched now: the lookup picks it.
 */
async function findEntry({ keystore, url }, member) {
  let members = keystore.members;
  const shard = shardOf(keystore, member.lookup);
  if (shard) {
    const found = await fetchJSON(new URL(shard.url, url));
    if (found.format !== "mk1" || found.site !== keystore.site || found.shard !== shard.prefix) {
      throw new MK1Error("tampered", `${shard.url} is not this keystore's shard`);
    }
    members = found.members;
  }
  const value = members && Object.hasOwn(members, member.lookup) ? members[member.lookup] : "";
  if (!value) return null;
  try {
    return await openKeystoreEntry(keystore.site, member, value);
  } catch (error) {
    return null;
  }
}

let databasePromise = null;

/** One connection per page, opened early (with the keystore) so signing in is quick. */
function database() {
  if (!databasePromise) {
    databasePromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("sessions");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    databasePromise.catch(() => { databasePromise = null; });
  }
  return databasePromise;
}

async function store(mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const request = action(db.transaction("sessions", mode).objectStore("sessions"));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const sessionKey = () => siteRoot().href;
const cookieValue = () =>
  (document.cookie.split("; ").find((c) => c.startsWith(`${COOKIE}=`)) || "").split("=")[1] || "";

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
      const record = await store("readonly", (s) => s.get(sessionKey())).catch(() => null);
      if (!record) return null;
      // "Remember me" off: the keys live as long as this browser session.
      if (!record.remember && record.browserSession !== cookieValue()) {
        await signOut(false);
        return null;
      }
      return record;
    })();
  }
  return sessionPromise;
}

export async function signOut(reload = true) {
  sessionPromise = Promise.resolve(null);
  document.cookie = `${COOKIE}=; path=/; max-age=0; SameSite=Strict`;
  await store("readwrite", (s) => s.delete(sessionKey())).catch(() => null);
  if (reload) location.reload();
}

export async function signIn(email, password, remember) {
  const source = (await prefetchKeystore()) || (await fetchKeystore());
  keystorePromise = null;
  const { keystore } = source;
  const member = await deriveMember(keystore.site, email, password, keystore.kdf.iterations);
  const entry = await findEntry(source, member);
  if (!entry) throw new MK1Error("credentials", GENERIC);
  if (entry.exp && entry.exp < new Date().toISOString().slice(0, 10)) {
    throw new MK1Error("expired", `Your membership ended on ${entry.exp}.`);
  }
  const keys = {};
  for (const [tier, held] of Object.entries(entry.keys)) {
    keys[tier] = { v: held.v, key: await importTierKey(b64(held.k)) };
  }
  const browserSession = remember ? "" : hex(crypto.getRandomValues(new Uint8Array(16)));
  if (!remember) document.cookie = `${COOKIE}=${browserSession}; path=/; SameSite=Strict`;
  const record = {
    site: keystore.site, name: entry.name, exp: entry.exp, remember, browserSession, keys,
  };
  await store("readwrite", (s) => s.put(record, sessionKey()));
  sessionPromise = Promise.resolve(record);
  return record;
}
