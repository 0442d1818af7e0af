/* memberkit: the browser side of a members-only site. Native modules, no dependencies.
 *
 * Members-only pages, sign-in, downloads and search (MK1: PROTOCOL.md); document
 * templates. boot.js, a classic script in <head>, holds Material's requests and the
 * page's load event until this module answers them (see there).
 */

import { showAudience } from "./audience.js";
import { setupDocuments, fill } from "./documents.js";
import { onDownloadClick } from "./downloads.js";
import { saveBlob } from "./files.js";
import * as mk1 from "./mk1.js";
import { landOnAnchor, nameMaterialControls, nameNavigation } from "./material.js";
import { openPage, openedPage, showClosed } from "./pages.js";
import { isSearchIndex, searchIndex } from "./search.js";
import { loadSession, signIn, signOut } from "./session.js";
import { focusSignIn, loginFromLink, showAccount, signInPage } from "./signin.js";
import { boot } from "./site.js";

boot.answer((url) => (isSearchIndex(url) ? searchIndex(url) : openedPage(url)));

/** Every page, the first and each one instant navigation brings. */
function init() {
  nameNavigation();
  landOnAnchor();
  showAccount();
  signInPage();
  // A session found stale while opening the page is gone by now: look again.
  showClosed().then(setupDocuments).then(loadSession).then(showAudience);
}

// Capture phase: before Material's instant navigation sees the click.
document.addEventListener("click", (event) => onDownloadClick(event) || focusSignIn(event), true);
// A login link opened on the page it points to changes only the fragment: no reload.
window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#login=")) loginFromLink();
});

window.memberkit = Object.assign(window.memberkit || {}, {
  ...mk1, fill, init, saveBlob, signIn, signOut,
});

async function start() {
  nameMaterialControls();
  loadSession().then(showAudience);
  let leaving = false;
  try {
    // Signed in from a link: the page loads again (or moves on); showing anything
    // here first would only race that load.
    leaving = await loginFromLink();
    if (!leaving) await openPage();
  } finally {
    boot.release();
  }
  if (leaving) return;
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else {
    init();
  }
}

start();
