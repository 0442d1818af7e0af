/* memberkit: the browser side of a members-only site. Native modules, no dependencies.
 *
 * Members-only pages, sign-in, downloads and search (MK1: PROTOCOL.md); document
 * templates. Loaded `async`: it may start while the page is still parsed. boot.js, a
 * classic script before Material's bundle, holds Material's requests and the page's
 * load event until this module answers them (see there).
 */

import { showAudience } from "./audience.js";
import { setupDocuments, fill } from "./documents.js";
import { onDownloadClick } from "./downloads.js";
import { saveBlob } from "./files.js";
import * as mk1 from "./mk1.js";
import { landOnAnchor, nameMaterialControls, nameNavigation } from "./material.js";
import {
  openEarly, openPage, openSignedIn, openedPage, pressLink, showClosed,
} from "./pages.js";
import { isSearchIndex, renewSearch, searchIndex } from "./search.js";
import { loadSession, signIn, signOut } from "./session.js";
import {
  focusSignIn, loginFromLink, showAccount, signInPage, whenSignedIn,
} from "./signin.js";
import { boot, materialConfig, parsed } from "./site.js";

/**
 * Signed in with a form on the page: no second load. The members' parts are opened
 * where the form stood, and Material mounts the page again as after instant
 * navigation (its code blocks, tabs, tooltips; and `init`: the header's account, the
 * templates' forms); its search gets the member's entries.
 */
whenSignedIn(async (session) => {
  const material = window.document$;
  if (!material || typeof material.next !== "function") return false;
  const opened = await openSignedIn(session);
  if (!opened) return true; // a fresher copy of the page is on its way
  for (const account of document.querySelectorAll(".mk1-account")) account.remove();
  showAudience(session);
  material.next(document);
  renewSearch().catch(() => null);
  // The form the focus was in is gone: the text that took its place has it.
  if (opened[0]) {
    opened[0].tabIndex = -1;
    opened[0].focus({ preventScroll: true });
  }
  return true;
});

/** Every page, the first and each one instant navigation brings. */
function init() {
  nameNavigation();
  landOnAnchor();
  showAccount();
  signInPage();
  // A session found stale while opening the page is gone by now: look again.
  showClosed().then(setupDocuments).then(loadSession).then(showAudience)
    .finally(() => document.documentElement.classList.remove("mk1-pending"));
}

// Capture phase: before Material's instant navigation sees the click.
document.addEventListener("click", (event) => {
  if (!onDownloadClick(event)) focusSignIn(event);
  pressLink(event, instant()); // the page the link leads to, unless the pointer asked for it
}, true);
// A link pressed with a mouse or a pen: the page it leads to is fetched and opened while
// the button is down. (A finger that goes down may be scrolling: its tap is the click.)
document.addEventListener("pointerdown", (event) => {
  if (event.pointerType !== "touch") pressLink(event, instant());
}, true);
// A pointer that rests on a link: a member's page is fetched and opened meanwhile, and
// the click finds it ready. Not for visitors (there is nothing to open: Material fetches
// their pages on the click, as always), nor when the browser asks to save data.
const RESTING_MS = 80;
let resting = { link: null, timer: 0 };
document.addEventListener("pointerover", (event) => {
  const link = event.pointerType !== "touch" && event.target.closest?.("a[href]");
  if (!link || link === resting.link) return;
  clearTimeout(resting.timer);
  const member = document.documentElement.classList.contains("mk1-signed-in");
  const timer = member && !navigator.connection?.saveData
    ? setTimeout(() => pressLink(event, instant()), RESTING_MS) : 0;
  resting = { link, timer };
}, true);
document.addEventListener("pointerout", (event) => {
  if (!resting.link || resting.link.contains(event.relatedTarget)) return;
  clearTimeout(resting.timer);
  resting = { link: null, timer: 0 };
}, true);
let instantNavigation = null; // read once the page (and Material's settings in it) is there
function instant() {
  if (instantNavigation === null && document.readyState !== "loading") {
    instantNavigation = (materialConfig().features || []).includes("navigation.instant");
  }
  return Boolean(instantNavigation);
}
// A login link opened on the page it points to changes only the fragment: no reload.
window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#login=")) loginFromLink(true);
});

window.memberkit = Object.assign(window.memberkit || {}, {
  ...mk1, fill, init, saveBlob, signIn, signOut,
});

async function start() {
  // Loaded while the page is still parsed: the member's text first (with the session
  // read from IndexedDB meanwhile), then the rest once the page is there. A login
  // link signs in first: opening with an earlier session would only race it.
  const early = location.hash.startsWith("#login=") ? 0 : openEarly();
  await parsed;
  boot().answer((url) => (isSearchIndex(url) ? searchIndex(url) : openedPage(url)));
  nameMaterialControls();
  loadSession().then(showAudience);
  let leaving = false;
  try {
    // Signed in from a link: this page opens signed in, or the sign-in page moves on
    // (showing anything here first would only race that load).
    leaving = await loginFromLink();
    if (!leaving) await openPage(await early);
  } finally {
    boot().release();
  }
  if (leaving) return;
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else {
    init();
  }
}

start();
