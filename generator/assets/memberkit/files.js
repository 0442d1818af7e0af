/* Files: a download fetched and, when it is members-only, opened here; a file saved
 * with its own name. Nothing is sent anywhere. */

import { fetchSealed, loadSession } from "./session.js";
import { pagePath, siteRoot } from "./site.js";

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** What a download link points to: {data, name, type}. A members' `.mk1` is opened
 * with the session's keys; without a session the page goes to sign-in (null). */
export async function fetchDownload(link) {
  const url = new URL(link.getAttribute("href"), location.href);
  const sealed = url.pathname.endsWith(".mk1");
  const path = decodeURIComponent(url.pathname.slice(siteRoot().pathname.length))
    .replace(/\.mk1$/, "");
  const session = sealed ? await loadSession() : null;
  if (sealed && !session) {
    // To sign-in, saying why, and back to this page after.
    const login = new URL("login/", siteRoot());
    login.searchParams.set("next", pagePath());
    login.searchParams.set("download", link.textContent.trim() || path.split("/").pop());
    location.assign(login.href);
    return null;
  }
  if (sealed) {
    const { header, data } = await fetchSealed(url, path, session);
    return { data, name: header.name, type: header.type };
  }
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const type = response.headers.get("content-type") || "application/octet-stream";
  return { data: new Uint8Array(await response.arrayBuffer()), name: path.split("/").pop(), type };
}
