/* Opening members' parts of pages, so that Material mounts them like any content.
 *
 * - On a page load, the part is opened in place before Material sees the document:
 *   as the parser passes it if the modules are there first (`openEarly`), else once
 *   the page is parsed (boot.js holds DOMContentLoaded until `openPage` is done); the
 *   scripts it holds are run as the parser would have run them.
 * - On instant navigation, Material fetches the next page with XMLHttpRequest:
 *   `openedPage` answers with that page already opened, and Material injects it,
 *   runs its scripts and mounts its components itself. The page is opened as text
 *   where its markup is as memberkit wrote it (`openText`), else as a document.
 * What cannot be opened (no session, another tier, rotated keys, a damaged envelope)
 * stays marked, and `showClosed` puts the sign-in form or an error in its place.
 */

import { MK1Error, b64, text } from "./mk1.js";
import { loadSession, openSealed, sessionSaved, signOut } from "./session.js";
import { endedNotice, signInForm } from "./signin.js";
import { pagePath, pathOf } from "./site.js";

const SEALED = "[data-mk1]:not([data-mk1-done]):not([data-mk1-failed])";
const MESSAGES = {
  tier: "Your membership does not include this page.",
  stale: "The site was updated since you signed in. Please sign in again.",
  // Removed, refunded, or a new password: said as nothing more than that.
  removed: "You were signed out. Sign in again to read on.",
  link: "Your login link has expired. Sign in with your email and password, or ask for a new link.",
  expired: "Your membership has ended.",
  unreachable: "The site could not be reached to renew your keys. Reload the page to try again.",
  old: "This is an older copy of the page than the site has now. Reload the page to read it.",
};
// Where a page was loaded again because its copy was older than the keys (once a page).
const RELOADED = "mk1-reloaded";

// Material's instant navigation makes every link absolute: match the fragment.
const MEMBERS_ENTRY = 'a.md-nav__link[href$="#mk1-members"]';

/**
 * Put the protected headings into the page's table of contents: in place of its
 * "For members" entry, in every copy Material rendered (the sidebar's, and the one in
 * the navigation for small screens).
 */
function insertToc(doc, html) {
  const entries = Array.from(doc.querySelectorAll(MEMBERS_ENTRY), (a) => a.closest("li"));
  for (const entry of entries) {
    const template = doc.createElement("template");
    template.innerHTML = html;
    entry.replaceWith(template.content);
  }
  if (entries.length) return;
  const list = doc.querySelector('[data-md-component="toc"]');
  if (list) list.insertAdjacentHTML("beforeend", html);
}

/**
 * Drop the teaser's own footnotes, shown to visitors: the opened part ends with the
 * page's footnotes, these included, numbered as in the whole page.
 */
function dropTeaserNotes(doc) {
  for (const notes of doc.querySelectorAll("[data-mk1-teaser-notes]")) notes.remove();
}

/**
 * Open every sealed part of `doc` (the page at `path`) in place. What fails is left
 * with the reason in `data-mk1-failed`. Returns the opened elements. `failure`: what
 * opening the page's one part has already thrown (`openText`), not tried again.
 */
async function openParts(doc, path, session, failure = null) {
  const opened = [];
  for (const element of doc.querySelectorAll(SEALED)) {
    try {
      if (failure) throw failure;
      const { data } = await openSealed(b64(element.dataset.mk1), path, session);
      const fragments = JSON.parse(text(data));
      const part = doc.createElement("div");
      part.className = "mk1-opened";
      part.innerHTML = fragments.content;
      element.replaceWith(part);
      dropTeaserNotes(doc);
      if (fragments.toc) insertToc(doc, fragments.toc);
      opened.push(part);
    } catch (error) {
      const code = error instanceof MK1Error ? error.code : "tampered";
      element.setAttribute("data-mk1-failed", code);
      // A membership that ended: the day, said where the part stays closed.
      if (error instanceof MK1Error && error.ended) element.setAttribute("data-mk1-ended", error.ended);
      if (code === "stale") await signOut(false);
    }
  }
  return opened;
}

// The markup memberkit writes around a members' part (sealing.py, envelopes.py): the
// sealed element, the teaser's own footnotes, the "For members" entry of the table of
// contents. Found by these, a page opens as text; markup they do not describe (a
// minifier's, another plugin's) opens as a document (`openParts`), with the same result.
const SEALED_TAG = /<div\b[^>]*?\sdata-mk1=(["']?)([A-Za-z0-9_-]+)\1(?=[\s>])[^>]*>/gi;
const NOTES_TAG = /<div\b[^>]*?\sdata-mk1-teaser-notes(?=[\s=>])[^>]*>/gi;
const MEMBERS_LINK = /<a\b[^>]*?\shref=(["']?)[^"'\s>]*#mk1-members\1(?=[\s>])[^>]*>/gi;
const count = (html, pattern) => html.split(pattern).length - 1;

/**
 * Where the element whose start tag ends at `from` ends (after its end tag), or -1
 * when another element of its kind is nested in it (matching those needs a parser).
 */
function elementEnd(html, from, tag) {
  const close = new RegExp(`</${tag}\\s*>`, "gi");
  close.lastIndex = from;
  const found = close.exec(html);
  if (!found) return -1;
  const nested = new RegExp(`<${tag}[\\s>/]`, "i");
  return nested.test(html.slice(from, found.index)) ? -1 : close.lastIndex;
}

/** The edits `[start, end, text]` applied to `html`; null if two of them overlap. */
function edited(html, edits) {
  edits.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (const [start, end, text] of edits) {
    if (start < at) return null;
    out += html.slice(at, start) + text;
    at = end;
  }
  return out + html.slice(at);
}

/**
 * The page `html` (at `path`) with its one members' part opened, as text: the sealed
 * element replaced by its content, the teaser's own footnotes dropped and the
 * protected headings put in the table of contents, as `openParts` does in a document.
 * Null when the page's markup is not as memberkit writes it. Throws what opening the
 * envelope throws.
 */
export async function openText(html, path, session) {
  const sealed = Array.from(html.matchAll(SEALED_TAG));
  if (sealed.length !== 1 || count(html, /\sdata-mk1=/i) !== 1) return null;
  const [tag, , envelope] = sealed[0];
  const end = elementEnd(html, sealed[0].index + tag.length, "div");
  if (end < 0) return null;
  const edits = [];
  const notes = Array.from(html.matchAll(NOTES_TAG));
  if (notes.length !== count(html, /\sdata-mk1-teaser-notes/i)) return null;
  for (const list of notes) {
    const listEnd = elementEnd(html, list.index + list[0].length, "div");
    if (listEnd < 0) return null;
    edits.push([list.index, listEnd, ""]);
  }
  const { data } = await openSealed(b64(envelope), path, session);
  const fragments = JSON.parse(text(data));
  edits.push([sealed[0].index, end, `<div class="mk1-opened">${fragments.content}</div>`]);
  if (fragments.toc) {
    const entries = Array.from(html.matchAll(MEMBERS_LINK))
      .filter((link) => /\bmd-nav__link\b/.test(link[0]));
    if (!entries.length) return null; // the list's end wants a parser: `insertToc` finds it
    for (const link of entries) {
      // The link's own list item, which holds nothing else.
      const start = html.lastIndexOf("<li", link.index);
      const close = html.indexOf("</li>", link.index);
      if (start < 0 || close < 0 || !/^<li[\s>]/.test(html.slice(start, start + 4))
        || /<\/li|<[uo]l[\s>]/i.test(html.slice(start + 3, link.index))
        || /<li[\s>]/i.test(html.slice(link.index, close))) return null;
      edits.push([start, close + 5, fragments.toc]);
    }
  }
  return edited(html, edits);
}

/** Run the scripts of opened content in order, as the parser runs a page's scripts. */
async function runScripts(part) {
  for (const old of part.querySelectorAll("script")) {
    const script = document.createElement("script");
    for (const name of old.getAttributeNames()) script.setAttribute(name, old.getAttribute(name));
    script.textContent = old.textContent;
    const loaded = old.src
      ? new Promise((resolve) => {
        script.addEventListener("load", resolve);
        script.addEventListener("error", resolve);
      })
      : null;
    old.replaceWith(script);
    if (loaded && !old.async) await loaded;
  }
}

/** Open the page's sealed parts in place and run their scripts; how many opened. */
async function openInPlace(session) {
  const opened = await openParts(document, pagePath(), session);
  for (const part of opened) await runScripts(part);
  return opened.length;
}

/** Once the parser has passed a members' part (it has begun what follows it), or has
 * parsed the whole page: whichever comes first. */
function sealedParsed() {
  const passed = () => {
    if (document.readyState !== "loading") return true;
    const sealed = document.querySelector(SEALED);
    return Boolean(sealed && sealed.nextSibling);
  };
  if (passed()) return Promise.resolve();
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => passed() && done());
    const done = () => {
      observer.disconnect();
      document.removeEventListener("readystatechange", done);
      resolve();
    };
    observer.observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener("readystatechange", done);
  });
}

/**
 * The page still being parsed (the modules start from <head>, while the stylesheets
 * load): the session is read meanwhile, and the members' part opened as soon as the
 * parser has passed it, so that the member's text is there when the rest of the page
 * arrives, and the theme first sees the page with it. Its scripts run where the parser
 * has got to, as the parser would have run them. How many parts opened; `openPage`
 * does the rest once the page is parsed.
 */
export async function openEarly() {
  const reading = loadSession().catch(() => null);
  await sealedParsed();
  if (!document.querySelector(SEALED)) return 0;
  const session = await reading;
  return session ? openInPlace(session).catch(() => 0) : 0;
}

/**
 * A copy of the page older than the member's keys (a cache kept it from before a
 * build): fetch it from the site and load it again, once. True when it reloads.
 */
async function reloadedFresh() {
  const older = document.querySelector('[data-mk1-failed="old"]');
  try {
    const reloaded = sessionStorage.getItem(RELOADED) === location.pathname;
    if (!older || reloaded) {
      if (!older && reloaded) sessionStorage.removeItem(RELOADED);
      return false;
    }
    sessionStorage.setItem(RELOADED, location.pathname);
  } catch (error) {
    return false; // no storage to remember it by: no reload that could repeat
  }
  await fetch(location.href, { cache: "reload", credentials: "same-origin" }).catch(() => null);
  await sessionSaved();
  location.reload();
  return true;
}

/**
 * The page as loaded, parsed to its end: open its members' parts before Material
 * mounts it (those `openEarly` opened, `early` of them, are in place already).
 */
export async function openPage(early = 0) {
  const session = document.querySelector(SEALED) ? await loadSession() : null;
  const opened = early + (session ? await openInPlace(session) : 0);
  if (await reloadedFresh()) return;
  if (opened && location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView();
  }
}

/**
 * Signed in with a form on the page: its members' parts opened where the form stood,
 * their scripts run. Null when the page must be loaded again (a copy older than the
 * member's keys, or a part that cannot be opened in place); else the opened parts,
 * for Material to mount as after instant navigation.
 */
export async function openSignedIn(session) {
  const closed = document.querySelectorAll("[data-mk1][data-mk1-done]");
  for (const element of closed) {
    element.removeAttribute("data-mk1-done");
    element.removeAttribute("data-mk1-failed");
    element.removeAttribute("data-mk1-ended");
  }
  const opened = await openParts(document, pagePath(), session);
  if (await reloadedFresh()) return null;
  for (const part of opened) await runScripts(part);
  return opened;
}

/** The page at `url` with its members' parts opened, `{html}`; null without a session. */
async function fetchOpened(url) {
  const session = await loadSession();
  if (!session) return null;
  let html = null;
  // A copy older than the member's keys (from a cache) is fetched once more from the site.
  for (const cache of ["default", "reload"]) {
    const response = await fetch(url, { cache, credentials: "same-origin" });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("text/html")) return null;
    html = await response.text();
    if (!html.includes("data-mk1=")) break;
    let failure = null; // the envelope's, as text: marked the same way in the document
    const opened = await openText(html, pathOf(url), session).catch((error) => {
      failure = error;
      return null;
    });
    if (opened !== null) return { html: opened };
    const doc = await openAsDocument(html, pathOf(url), session, failure);
    html = doc.html;
    if (!doc.old) break;
  }
  return { html };
}

/**
 * The page `html` (at `path`) parsed, its members' parts opened (`openParts`: what
 * fails stays marked) and written back: `{html, old}`, `old` for a copy of the page
 * older than the member's keys.
 */
export async function openAsDocument(html, path, session, failure = null) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  await openParts(doc, path, session, failure);
  return {
    html: `<!DOCTYPE html>\n${doc.documentElement.outerHTML}`,
    old: Boolean(doc.querySelector('[data-mk1-failed="old"]')),
  };
}

// Pages a member has pressed a link to, on their way (`pressLink`): URL without fragment
// => promise of `fetchOpened`. Instant navigation takes them from here.
const pressed = new Map();
const PRESSED_MS = 10000; // then fetched anew: a press that led nowhere is forgotten
const pageKey = (url) => {
  const key = new URL(url, location.href);
  key.hash = "";
  return key.href;
};

/**
 * A member presses a link (the pointer goes down, or a click comes from the keyboard)
 * that instant navigation will follow: the page is fetched and opened from now on,
 * not from when Material asks for it.
 */
export function pressLink(event, instant) {
  if (!instant || event.defaultPrevented || event.button > 0 || event.ctrlKey
    || event.metaKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || link.hasAttribute("download") || (link.target && link.target !== "_self")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !/(\/|\.html)$/.test(url.pathname)
    || url.pathname === location.pathname) return;
  const key = pageKey(url);
  if (pressed.has(key)) return;
  const opening = fetchOpened(url).catch(() => null);
  pressed.set(key, opening);
  setTimeout(() => pressed.get(key) === opening && pressed.delete(key), PRESSED_MS);
}

/** Instant navigation: the next page with its members' parts opened, `{html}`. */
export async function openedPage(url) {
  const key = pageKey(url);
  const early = pressed.get(key);
  pressed.delete(key);
  return (early && (await early)) || fetchOpened(url);
}

function showBroken(element) {
  const box = document.createElement("div");
  box.className = "admonition failure mk1-error";
  box.setAttribute("role", "alert");
  box.innerHTML = `<p class="admonition-title">This page could not be opened</p>
    <p>Its protected part was changed or does not belong to this address. Reload the page;
    if this stays, tell the site owner.</p>`;
  element.replaceChildren(box);
}

/**
 * After Material has mounted a page: open what is still sealed (a page that came by
 * another way than `openedPage`), then show the sign-in form (with the reason) or
 * an error in place of what cannot be opened.
 */
export async function showClosed() {
  if (!document.querySelector("[data-mk1]:not([data-mk1-done])")) return;
  const session = await loadSession();
  if (session) await openInPlace(session);
  for (const element of document.querySelectorAll("[data-mk1]:not([data-mk1-done])")) {
    element.setAttribute("data-mk1-done", "");
    const reason = element.dataset.mk1Failed || "";
    if (reason && !(reason in MESSAGES)) {
      showBroken(element);
    } else {
      // A membership that ended: said calmly above the form, with the way to renew.
      const ended = element.dataset.mk1Ended;
      const note = ended ? endedNotice(ended) : MESSAGES[reason] || "";
      element.replaceChildren(signInForm("This part is for members: sign in to read it.", note));
    }
  }
}
