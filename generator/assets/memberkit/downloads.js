/* Members' downloads: fetch the .mk1, open it here, save it with its own name. */

import { say } from "./documents.js";
import { saveBlob } from "./files.js";
import { loadSession, openSealed } from "./session.js";
import { pagePath, siteRoot } from "./site.js";

async function download(link) {
  const session = await loadSession();
  const url = new URL(link.getAttribute("href"), location.href);
  const path = decodeURIComponent(url.pathname.slice(siteRoot().pathname.length))
    .replace(/\.mk1$/, "");
  if (!session) {
    location.assign(`${new URL("login/", siteRoot()).href}?next=${encodeURIComponent(pagePath())}`);
    return;
  }
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const { header, data } = await openSealed(bytes, path, session);
  saveBlob(new Blob([data], { type: header.type }), header.name);
}

/** A click on a link to a `.mk1` file (capture phase: before instant navigation). */
export function onDownloadClick(event) {
  const link = event.target.closest && event.target.closest('a[href$=".mk1"]:not([data-mk-fill])');
  if (!link) return false;
  event.preventDefault();
  event.stopPropagation();
  download(link).catch(() => {
    const root = link.closest(".mk-doc") || document.body;
    say(root, "This download could not be opened. Sign in again or reload the page.");
  });
  return true;
}
