/* Search: Material's own, fed the index merged with the shards the member may read. */

import { MK1Error, text } from "./mk1.js";
import { fetchSealed, loadSession, signOut } from "./session.js";
import { boot, materialConfig, siteRoot } from "./site.js";

const SETUP = 0; // Material's search worker: "set up this index"
let merged = null;

/** The site's search index with the entries of the shards the member may read. */
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
    // A page opened for the member is found once: its entries (teaser included) take
    // the place of every entry the visitors' index has of it, its sections too (what
    // only visitors see, such as a template's sample, has no place in the member's).
    // Material reads a page's entry before its sections: none is left without it.
    const page = (doc) => doc.location.split("#")[0];
    const replaced = new Set(opened.map(page));
    index.docs = index.docs.filter((doc) => !replaced.has(page(doc))).concat(opened);
  }
  return index;
}

const asBlob = (index) =>
  URL.createObjectURL(new Blob([JSON.stringify(index)], { type: "application/json" }));

/**
 * The search index Material asked for: for a member, with their entries, as a blob:
 * URL (made once a page); for a visitor, the site's own (null: asked for as it is).
 */
export function searchIndex(url) {
  merged = merged || loadSession()
    .then((session) => (session ? mergedIndex(url.href).then(asBlob) : null))
    .catch(() => null);
  return merged;
}

/**
 * Signed in on the page: Material's search worker (set up with the index as it was)
 * gets the index with the member's entries, as Material itself sets it up.
 */
export async function renewSearch() {
  if (!boot().searchWorkers.length) return;
  const config = materialConfig();
  merged = null;
  const url = new URL("search/search_index.json", siteRoot());
  const index = await mergedIndex(url.href);
  const suggest = (config.features || []).includes("search.suggest");
  const data = { config: index.config, docs: index.docs, options: { suggest } };
  for (const worker of boot().searchWorkers) worker.postMessage({ type: SETUP, data });
}

export const isSearchIndex = (url) => /(^|\/)search\/search_index\.json$/.test(url.pathname);
