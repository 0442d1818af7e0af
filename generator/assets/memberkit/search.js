/* Search: Material's own, fed the index merged with the shards the member may read. */

import { MK1Error, text } from "./mk1.js";
import { fetchSealed, loadSession, signOut } from "./session.js";
import { siteRoot } from "./site.js";

let merged = null;

async function mergedIndex(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  const index = await response.json();
  const session = await loadSession();
  if (session) {
    const opened = [];
    for (const tier of Object.keys(session.keys)) {
      const path = `search/${tier}.json`;
      try {
        const { data } = await fetchSealed(new URL(`${path}.mk1`, siteRoot()), path, session);
        opened.push(...JSON.parse(text(data)).docs);
      } catch (error) {
        if (error instanceof MK1Error && error.code === "stale") await signOut(false);
      }
    }
    // A page opened for the member is found once: its entry (teaser included) takes
    // the place of the teaser's entry.
    const replaced = new Set(opened.map((doc) => doc.location));
    index.docs = index.docs.filter((doc) => !replaced.has(doc.location)).concat(opened);
  }
  return URL.createObjectURL(new Blob([JSON.stringify(index)], { type: "application/json" }));
}

/** The search index Material asked for, as a blob: URL (made once a page). */
export function searchIndex(url) {
  merged = merged || mergedIndex(url.href).catch(() => null);
  return merged;
}

export const isSearchIndex = (url) => /(^|\/)search\/search_index\.json$/.test(url.pathname);
